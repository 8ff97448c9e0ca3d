from django.urls import include, path, re_path

from clinicportal.api import errors as api_errors
from clinicportal.core import csp_reports, errors, health

# Under /api/ the API's own JSON answers; everywhere else the site's framed pages.
handler400 = api_errors.bad_request
handler403 = errors.permission_denied
handler404 = api_errors.page_not_found
handler500 = api_errors.server_error

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("readyz/worker", health.readyz_probe, {"name": "worker"}, name="readyz_worker"),
    path("readyz/scanner", health.readyz_probe, {"name": "scanner"}, name="readyz_scanner"),
    path("csp-report", csp_reports.csp_report, name="csp_report"),
    path("office/", include("clinicportal.office.urls")),
    path("api/v1/", include("clinicportal.api.urls")),
    re_path(r"^api(?:/|$)", api_errors.not_found),
    path("p/<slug:practice_slug>/", include("clinicportal.portal.urls")),
    path("pay/", include("clinicportal.billing.urls")),
]
