"""JSON answers for what no API view answers itself, so every answer under ``/api/`` is JSON.

An unknown address under ``/api/`` is answered by ``not_found``, routed last. Errors raised
before or around a view (a host we do not serve, too many form parts, a server error) reach
Django's error handlers; these answer requests under ``/api/`` in the Error shape of the OpenAPI
document and leave every other page to the site's framed error pages.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from clinicportal.api.views import error
from clinicportal.core import errors as site_errors
from clinicportal.core.hosts import is_api_path


def is_api(request: HttpRequest) -> bool:
    return is_api_path(request.path_info)


@csrf_exempt  # a program gets a JSON 404, not a CSRF page, for a POST to a wrong address
def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error(
        404, _("There is nothing at this address; see /api/v1/openapi.json for what there is.")
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return not_found(request, exception)
    return site_errors.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return error(400, _("The request is malformed; nothing was stored."))
    return site_errors.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return error(
            500,
            _(
                "Something went wrong on our side. Please try again in a few minutes; if it "
                "keeps happening, tell the practice."
            ),
        )
    return site_errors.server_error(request)
