"""What every log line says about where it comes from: the request, the practice, the actor.

The context lives in a context variable, so it follows the request (or the worker's task)
through every function without being passed along. ``RequestLogMiddleware`` starts a fresh one
for each request, with a new request id that the response carries as ``X-Request-ID``, and
writes one access line when the view has answered. The code that learns who is asking (the
office's ``staff_required``, the portal's ``portal_required``, the API's key check) calls
``bind_actor``; the worker calls ``scope``. ``logformat.ContextFilter`` copies the context
onto each record.

Only opaque ids go in: a practice's slug, an account's or key's number, never a name.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve

from clinicportal.core.context import Actor, ApiActor, PortalActor, StaffActor

REQUEST_ID_HEADER = "X-Request-ID"
# URL parameters that are secrets (a single-use link's token): shown masked in logged paths.
SECRET_URL_KWARGS = frozenset({"token"})
MASK = "[hidden]"
# The URL parameter that names the practice on the portal's pages, signed in or not.
PRACTICE_URL_KWARG = "practice_slug"
RAW_PATH = "_raw_path"  # kept to mask it wherever a logger (django.request) writes it

_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: ContextVar[Mapping[str, str]] = ContextVar("clinicportal_log_context", default=_EMPTY)
access_logger = logging.getLogger("clinicportal.access")


def current() -> Mapping[str, str]:
    """The fields every log line written now carries."""
    return _context.get()


def bind(**fields: str) -> None:
    """Add fields to the current context (for the rest of the request or task)."""
    _context.set({**_context.get(), **fields})


def clear(**_signal: Any) -> None:
    """Forget the context (connected to request_finished, after Django's own error lines)."""
    _context.set(_EMPTY)


@contextmanager
def scope(**fields: str) -> Iterator[None]:
    """Add fields for the duration of a block, then restore what was there before."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def actor_label(actor: Actor) -> str:
    """Who is acting, by opaque id: ``staff:<user id>``, ``portal:<account id>``, ``api:<key
    id>``, or ``anonymous`` for a visitor who has not signed in."""
    if isinstance(actor, StaffActor):
        return f"staff:{actor.user.pk}"
    if isinstance(actor, PortalActor):
        return f"portal:{actor.account.pk}"
    if isinstance(actor, ApiActor):
        return f"api:{actor.api_key.pk}"
    return "anonymous"


def bind_actor(actor: Actor) -> None:
    """Name the actor and their practice on every later log line of this request."""
    bind(practice=actor.practice.slug, actor=actor_label(actor))


def new_request_id() -> str:
    return uuid.uuid4().hex


def loggable_path(path: str, view_kwargs: Mapping[str, object]) -> str:
    """``path`` with every secret URL parameter (a link's token) masked."""
    for name in SECRET_URL_KWARGS & view_kwargs.keys():
        value = str(view_kwargs[name])
        if value:
            path = re.sub(rf"/{re.escape(value)}(?=/|$)", f"/{MASK}", path)
    return path


def unresolved_path(request: HttpRequest) -> str:
    """The loggable path of a request answered before its URL was resolved (a redirect to
    HTTPS, a refused host, a redirect that adds the final slash): resolved here, with that
    slash too, only to mask its secret parameters."""
    return path_masked(request.path, request.path_info)


def path_masked(path: str, path_info: str | None = None) -> str:
    """``path`` with its secret URL parameters masked, found by resolving ``path_info`` (the
    path without the script's prefix; the path itself when not given), with a final slash too."""
    kwargs: Mapping[str, object] = {}
    path_info = path if path_info is None else path_info
    for candidate in (path_info, f"{path_info}/"):
        try:
            kwargs = resolve(candidate).kwargs
            break
        except Resolver404:
            continue
    return loggable_path(path, kwargs)


class RequestLogMiddleware:
    """Give each request an id (returned as X-Request-ID) and log one line when it is answered.

    First in MIDDLEWARE, so that every other middleware's log lines carry the id. The line
    names the method, the path (never the query string, and with secret parameters masked),
    the status and how long the answer took; not the body, not the headers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.monotonic()
        request_id = new_request_id()
        _context.set({"request_id": request_id, "actor": "anonymous"})
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        path = _context.get().get("path") or unresolved_path(request)
        access_logger.info(
            "%s %s %s",
            request.method,
            path,
            response.status_code,
            extra={
                "path": path,
                "method": request.method,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        return response

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., HttpResponseBase],
        view_args: tuple[object, ...],
        view_kwargs: dict[str, object],
    ) -> None:
        path = loggable_path(request.path, view_kwargs)
        bind(path=path, **({RAW_PATH: request.path} if path != request.path else {}))
        slug = view_kwargs.get(PRACTICE_URL_KWARG)
        if isinstance(slug, str) and "practice" not in _context.get():
            bind(practice=slug)
