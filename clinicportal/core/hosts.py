"""The office and the portal on hosts of their own (ASVS 3.5.4), once the operator gives the
office one: CLINICPORTAL_OFFICE_URL beside CLINICPORTAL_BASE_URL.

A browser then keeps each host's cookies, storage and pages apart by the same-origin policy:
nothing a portal page could be made to run reaches an office session, and the office's
session cookie is never sent to the portal's host. So the office (``/office/`` and the API,
``/api/``) is served only at the office's host, and everything else (the portals, payments)
only at the other hosts. A page asked for at the wrong host is redirected to the right one when
it is a GET or HEAD (a bookmark, a link from before the split) and not found otherwise, so no
form is ever posted across. The health checks and the CSP reports answer at every host.

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
from django.http.request import split_domain_port, validate_host

OFFICE_PREFIXES = ("/office/", "/api/")
OFFICE_PATHS = ("/office", "/api")
DEFAULT_PORTS = {"http": "80", "https": "443"}

type Place = tuple[str, str]  # a host's name and its port ("" for the scheme's own)


def is_office_path(path: str) -> bool:
    return path in OFFICE_PATHS or path.startswith(OFFICE_PREFIXES)


def is_api_path(path: str) -> bool:
    """Whether ``path`` is the machine API's (``/api`` or under ``/api/``)."""
    return path == "/api" or path.startswith("/api/")


def _answers_everywhere(path: str) -> bool:
    """The health checks, which load balancers may ask at any name, and where the pages of
    both hosts report what their Content-Security-Policy stopped."""
    return path in ("/healthz", "/readyz", "/csp-report") or path.startswith("/readyz/")


def _place(host: str, scheme: str) -> Place:
    """``host`` as browsers tell hosts apart: its name in lower case without a final dot, and
    its port unless it is the scheme's own (https://office.example.org:443 is the office)."""
    name, port = split_domain_port(host)
    return name, "" if port == DEFAULT_PORTS.get(scheme) else port


@lru_cache(maxsize=4)
def _place_of(url: str) -> Place:
    parts = urlsplit(url)
    return _place(parts.netloc, parts.scheme)


def office_url() -> str:
    """The office's address: CLINICPORTAL_OFFICE_URL, or the portal's when that is not set."""
    return settings.CLINICPORTAL_OFFICE_URL or settings.CLINICPORTAL_BASE_URL


def office_place() -> Place | None:
    """Where the office is, or None while it shares the portal's host."""
    office = _place_of(office_url())
    return None if office == _place_of(settings.CLINICPORTAL_BASE_URL) else office


class SeparateHostsMiddleware:
    """Last in MIDDLEWARE, so that its answers carry every header the others add."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        office = office_place()
        path = request.path_info
        if office is None or _answers_everywhere(path):
            return self.get_response(request)
        scheme = "https" if request.is_secure() else "http"
        at_office = _place(request.get_host(), scheme) == office
        if is_office_path(path) == at_office:
            return self.get_response(request)
        if at_office and path == "/":
            return HttpResponseRedirect(office_url() + "/office/")
        # Never redirect the API: a program would send its key again, and posts never cross.
        if is_api_path(path) or request.method not in ("GET", "HEAD"):
            raise Http404
        right = settings.CLINICPORTAL_BASE_URL if at_office else office_url()
        return HttpResponseRedirect(right + request.get_full_path())


def separate_hosts_check(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """``check --deploy`` warns while the office has no host name of its own (a port of its own
    is not enough: browsers send a host's cookies to all its ports), and while ALLOWED_HOSTS
    would refuse the office's name."""
    office, portal = _place_of(office_url()), _place_of(settings.CLINICPORTAL_BASE_URL)
    if office[0] == portal[0]:
        return [
            checks.Warning(
                "The office shares the portal's host: CLINICPORTAL_OFFICE_URL does not give it "
                "a host name of its own.",
                hint=(
                    "Give the office its own name, such as https://office.example.org, set "
                    "CLINICPORTAL_OFFICE_URL to it and add it to ALLOWED_HOSTS. Browsers then "
                    "keep the office's sessions apart from the portal's pages."
                ),
                id="core.W001",
            )
        ]
    if not validate_host(office[0], settings.ALLOWED_HOSTS):
        return [
            checks.Warning(
                f"ALLOWED_HOSTS leaves out the office's host, {office[0]}: every office page "
                "would be refused.",
                hint="Add it to ALLOWED_HOSTS, beside the portal's.",
                id="core.W002",
            )
        ]
    return []
