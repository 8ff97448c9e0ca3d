"""A lasting, random name for each browser, so that a sign-in from a browser an account has
not used before can be told to its owner (ASVS 6.3.5; accounts.services.browsers).

The sign-in pages give a browser the cookie, a random token, when it has none, and give it
again when it has: it is kept for 400 days from the last (the longest browsers keep a cookie),
sent only to this host, over HTTPS in production, never to scripts. It says nothing of who uses
the browser and is no key to anything; each account keeps only a keyed hash of it and of the
account, so no two accounts keep the same. A browser that refuses it, or clears it, is new at
every sign-in.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.crypto import salted_hmac

BROWSER_COOKIE_DAYS = 400
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # 32 random bytes, base64 for URLs


def browser_cookie_name() -> str:
    # __Host-: the browser keeps it for this very host and HTTPS only, whatever a page says.
    return "__Host-browser" if settings.SESSION_COOKIE_SECURE else "browser"


def browser_token(request: HttpRequest) -> str | None:
    """The token the browser sent, or None when it sent none (or something else)."""
    token = request.COOKIES.get(browser_cookie_name(), "")
    return token if _TOKEN.fullmatch(token) else None


def browser_cookie_give(request: HttpRequest, response: HttpResponseBase) -> None:
    """Give the browser its token, or the one it has again: it is kept BROWSER_COOKIE_DAYS
    from the last sign-in page, not from the first."""
    response.set_cookie(
        browser_cookie_name(),
        browser_token(request) or secrets.token_urlsafe(32),
        max_age=BROWSER_COOKIE_DAYS * 24 * 60 * 60,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def gives_browser_cookie(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Give the browser its token with whatever a sign-in page answers (for a class-based view,
    through ``method_decorator`` on ``dispatch``)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        browser_cookie_give(request, response)
        return response

    return wrapped


def browser_key(token: str, owner: str) -> str:
    """What the account ``owner`` names keeps of a browser's token: a keyed hash of both,
    never the token, and not the same in two accounts."""
    return salted_hmac("known-browser", f"{owner}\n{token}", algorithm="sha256").hexdigest()[:32]
