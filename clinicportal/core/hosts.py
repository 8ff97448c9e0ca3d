"""The office and the portal on hosts of their own (ASVS 3.5.4), once the operator gives the
office one: CLINICPORTAL_OFFICE_URL beside CLINICPORTAL_BASE_URL.

A browser then keeps each host's cookies, storage and pages apart by the same-origin policy:
nothing a portal page could be made to run reaches an office session, and the office's
session cookie is never sent to the portal's host. So the office (``/office/`` and the API,
``/api/``) is served only at the office's host, and everything else (the portals, payments)
only at the other hosts. A page asked for at the wrong host is redirected to the right one when
it is a GET or HEAD (a bookmark, a link from before the split) and not found otherwise, so no
form is ever posted across. The health checks answer at every host.

With the two addresses at one host (the default) every path is served at it, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseRedirect

OFFICE_PREFIXES = ("/office/", "/api/")
OFFICE_PATHS = ("/office", "/api")
EVERY_HOST_PATHS = ("/healthz", "/readyz")


def is_office_path(path: str) -> bool:
    return path in OFFICE_PATHS or path.startswith(OFFICE_PREFIXES)


@lru_cache(maxsize=4)
def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def office_url() -> str:
    """The office's address: CLINICPORTAL_OFFICE_URL, or the portal's when that is not set."""
    return settings.CLINICPORTAL_OFFICE_URL or settings.CLINICPORTAL_BASE_URL


def office_host() -> str | None:
    """The office's own host, or None while it shares the portal's."""
    office = _host(office_url())
    return None if office == _host(settings.CLINICPORTAL_BASE_URL) else office


class SeparateHostsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        office = office_host()
        path = request.path_info
        if office is None or path.startswith(EVERY_HOST_PATHS):
            return self.get_response(request)
        at_office = request.get_host().lower() == office
        if is_office_path(path) == at_office:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            raise Http404
        right = settings.CLINICPORTAL_BASE_URL if at_office else office_url()
        return HttpResponseRedirect(right + request.get_full_path())


def separate_hosts_check(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """``check --deploy`` warns while the office shares the portal's host."""
    if office_host() is not None:
        return []
    return [
        checks.Warning(
            "The office shares the portal's host: CLINICPORTAL_OFFICE_URL is not set to a host "
            "of its own.",
            hint=(
                "Give the office its own name, such as https://office.example.org, set "
                "CLINICPORTAL_OFFICE_URL to it and add it to ALLOWED_HOSTS. Browsers then keep "
                "the office's sessions apart from the portal's pages."
            ),
            id="core.W001",
        )
    ]
