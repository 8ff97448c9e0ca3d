"""Requests another site makes a browser send are refused (ASVS 3.5.8).

Browsers say where each request comes from in the ``Sec-Fetch-*`` headers (Fetch Metadata).
The session cookie is ``SameSite=Lax``, so a page of another site never makes a browser send
it with a picture, a script or a form. But a site is a registrable domain: with the office at
``office.example.org`` and the portal at ``portal.example.org`` (see core.hosts), or any other
name under ``example.org``, a page at one of them is of the same site as the others, and the
browser sends their cookies with whatever it loads from them. So a page of the portal that
someone made run a script, or another service at a sibling name, could load an office file as
a picture (each opening is written to the audit trail and marks a record read) or post a form
to the office with its session.

This middleware answers only what a page of this very origin asked for, and what a person
asked for themselves: a request whose ``Sec-Fetch-Site`` is ``same-origin`` or ``none`` (an
address typed, a bookmark). From any other page, same site or not, it lets through only a
plain navigation: a GET or HEAD of a whole page in the window (a link in an email, the card
processor's way back). A form posted from there, a frame, a picture, a script or a ``fetch``
is refused with a 403 before any view or check runs, so nothing is written. (A frame would
not be shown, by ``frame-ancestors``, but the view behind it would run and be recorded.)

Requests without the headers (older browsers, programs with an API key, the card processor's
webhook, health probes) pass: the other defences (CSRF tokens, SameSite cookies, keys) still
hold for them. Every answer also says ``Cross-Origin-Resource-Policy: same-origin``, so a
browser itself refuses to hand any of them to another origin's page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from clinicportal.core.errors import other_site

logger = logging.getLogger(__name__)

# Where a request may come from whatever it is: this origin's own pages, or the person (an
# address typed, a bookmark, a link from a program that is not a web page).
OWN_SITES = frozenset({"same-origin", "none"})
NAVIGATION_METHODS = frozenset({"GET", "HEAD"})
FIELDS = ("Site", "Mode", "Dest")  # logged when a request is refused


def from_elsewhere_allowed(request: HttpRequest) -> bool:
    """Whether ``request`` may be answered: it came from this origin or from the person, or it is
    a plain navigation to a page in the window, or its browser sent no Fetch Metadata at all."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is None or site in OWN_SITES:
        return True
    return (
        request.headers.get("Sec-Fetch-Mode") == "navigate"
        and request.method in NAVIGATION_METHODS
        # Chromium sent Mode before Dest (76 to 79): a navigation without Dest is a page's.
        and request.headers.get("Sec-Fetch-Dest", "document") == "document"
    )


class FetchMetadataMiddleware:
    """After the middleware that adds headers and picks the language, so a refusal carries the
    same headers as any answer, in the person's language; before every view and CSRF check."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if from_elsewhere_allowed(request):
            response = self.get_response(request)
        else:
            logger.warning(
                "request from another site refused: site %s, mode %s, destination %s",
                *(request.headers.get(f"Sec-Fetch-{name}", "")[:32] for name in FIELDS),
            )
            response = other_site(request)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
