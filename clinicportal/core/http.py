"""Small response helpers shared by the office and the portal."""

from __future__ import annotations

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)

PROGRESS_HEADER = "X-Upload-Progress"
# What a browser forgets of this site at sign-out: pages it cached and what scripts stored. Not
# "cookies": the session cookie carries the sign-out's message to the next page.
CLEAR_SITE_DATA = '"cache", "storage"'


def absolute_url(path: str) -> str:
    """Return ``path`` at the site's configured address (CLINICPORTAL_BASE_URL).

    For links that leave the site (emails, printed slips): a request's Host header is the
    client's to choose, so it never goes into them.
    """
    return settings.CLINICPORTAL_BASE_URL + path


def redirect_after_upload(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect after a successful upload.

    The progress bar posts with XMLHttpRequest, which would follow a redirect itself and use up
    the page's one-time messages; it gets the address as JSON and goes there instead.
    """
    if request.headers.get(PROGRESS_HEADER) == "1":
        return JsonResponse({"location": url})
    return HttpResponseRedirect(url)


def signed_out[R: HttpResponseBase](response: R) -> R:
    """Have the browser drop this site's cache and storage: the response to a sign-out."""
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response
