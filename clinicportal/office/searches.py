"""Searches without their terms in the address: the terms stay in the session.

A name, a date of birth or a phone number in a query string ends up in the browser's history,
in the web server's and the load balancer's access logs, and in the Referer of the next
request. So a search form posts its terms; ``search_keep`` keeps them in the session under a
random handle of 128 bits, and the answer redirects to the page with ``?s=<handle>`` only. Its GET
reads the terms back with ``search_terms`` and writes nothing. Pagination links and a reload
carry the handle. The session keeps the last KEPT searches of each kind; an older handle, one
from another session, or one of another kind of search names nothing, and the page says so
kindly.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import urlencode

KEY = "office.searches"
KEPT = 5
HANDLE = "s"
HANDLE_BYTES = 16  # 128 random bits: not guessable (ASVS 5.0 V11.5.1)


@dataclass(frozen=True)
class SearchKind:
    """A kind of search: its handles are kept apart, and it reads up to ``max_length``."""

    name: str
    max_length: int

    @property
    def session_key(self) -> str:
        return f"{KEY}.{self.name}"


PATIENTS = SearchKind("patients", 100)  # as far as patients.search.parse_query reads
HEALTH_TOPICS = SearchKind("health-topics", 200)  # Search Online's box takes 200
LIBRARY = SearchKind("library", 100)  # as far as practices.selectors.system_documents reads


def search_keep(request: HttpRequest, text: str, *, kind: SearchKind) -> str:
    """Keep ``text`` in the session and return its handle; the same text keeps its handle."""
    text = text.strip()[: kind.max_length]
    kept: list[list[str]] = [
        entry for entry in request.session.get(kind.session_key, []) if isinstance(entry, list)
    ]
    same = next((handle for handle, terms in kept if terms == text), None)
    handle = same or secrets.token_urlsafe(HANDLE_BYTES)
    kept = [entry for entry in kept if entry[0] != handle][-(KEPT - 1) :]
    request.session[kind.session_key] = [*kept, [handle, text]]
    return handle


def search_terms(request: HttpRequest, *, kind: SearchKind) -> tuple[str, bool]:
    """Return the terms the request's handle names, and whether it named nothing kept.

    Without a handle: no terms, and nothing missing.
    """
    handle = request.GET.get(HANDLE, "")
    if not handle:
        return "", False
    for entry in request.session.get(kind.session_key, []):
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == handle:
            return str(entry[1]), False
    return "", True


def search_query_string(handle: str) -> str:
    """The query string of the page showing a search: ``s=<handle>``."""
    return urlencode({HANDLE: handle})


def search_redirect(request: HttpRequest, path: str, *, kind: SearchKind) -> HttpResponseRedirect:
    """Answer a posted search (field ``q``): keep its terms, go to ``path`` with their handle."""
    text = request.POST.get("q", "").strip()
    if not text:
        return HttpResponseRedirect(path)
    handle = search_keep(request, text, kind=kind)
    return HttpResponseRedirect(f"{path}?{search_query_string(handle)}")
