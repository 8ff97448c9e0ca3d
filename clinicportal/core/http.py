"""Small response helpers shared by the office and the portal."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.utils.cache import add_never_cache_headers

from clinicportal.core.hosts import office_url

PROGRESS_HEADER = "X-Upload-Progress"
# What a browser forgets of this site at sign-out: pages it cached and what scripts stored. Not
# "cookies": the session cookie carries the sign-out's message to the next page.
CLEAR_SITE_DATA = '"cache", "storage"'

View = Callable[..., HttpResponseBase]


def never_stored(view: View) -> View:
    """Tell browsers and proxies never to keep the view's answers (``Cache-Control: no-store``).

    What both doors' sign-in decorators apply to every page behind them: a page of health data
    must not come back from a shared computer's history or a proxy's cache. Django's
    ``never_cache`` headers, unless the view already answered with no-store (a stored file sets
    its own, see core.files).
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if "no-store" not in response.get("Cache-Control", ""):
            add_never_cache_headers(response)
        return response

    return wrapped


def absolute_url(path: str) -> str:
    """Return ``path`` at the site's configured address (CLINICPORTAL_BASE_URL).

    For links that leave the site (emails, printed slips): a request's Host header is the
    client's to choose, so it never goes into them.
    """
    return settings.CLINICPORTAL_BASE_URL + path


def office_absolute_url(path: str) -> str:
    """Return ``path`` at the office's configured address, which may be a host of its own (see
    core.hosts)."""
    return office_url() + path


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
