"""Refuse API requests that came over plain HTTP, rather than redirect them.

The site's pages are redirected to HTTPS (SECURE_SSL_REDIRECT), but a program that follows a
redirect sends its request again, API key and all, and the first one already went in clear.
So in production ``/api/`` is left out of the redirect (SECURE_REDIRECT_EXEMPT) and answered
here with a JSON error instead, so that the mistake shows at once. Whether a request came over
HTTPS is Django's ``request.is_secure()``, which honours SECURE_PROXY_SSL_HEADER.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _

from clinicportal.api.views import error
from clinicportal.core.hosts import is_api_path


class ApiHttpsOnlyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            settings.CLINICPORTAL_API_HTTPS_ONLY
            and is_api_path(request.path_info)
            and not request.is_secure()
        ):
            return error(
                403,
                _(
                    "The API takes requests over HTTPS only: send this one to the https:// "
                    "address. It was sent unencrypted, so if it carried an API key, replace "
                    "that key."
                ),
            )
        return self.get_response(request)
