"""What a browser's session remembers for both doors: a sign-in owing its second step, when the
sign-in began (the absolute lifetime) and when the session was last used (the idle time-out).

The office and the portal keep these under keys of their own, so a browser can be at both doors
at once without one's state touching the other's.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import NamedTuple

from django.http import HttpRequest

PENDING_SECONDS = 5 * 60
MARK = ".mark"  # beside a pending second step's key: the mark its password left
STAMP_SECONDS = 60
# A signed-in session ends this long after its sign-in, however busy it is.
ABSOLUTE_LIFETIME = 12 * 60 * 60


def second_step_await(
    request: HttpRequest, key: str, subject_id: int, next_url: str, mark: datetime | None = None
) -> None:
    """Remember, for five minutes, who gave a right password and now owes a code.

    ``mark`` is what this password left on the account for a later check (an unfinished
    sign-in's), or None when it left none. It is kept apart, until the sign-in is finished
    (second_step_clear), so that the password given again here, even after the five minutes,
    finds the mark this browser left, not only one of its own.
    """
    request.session[key] = [subject_id, next_url, int(time.time())]
    kept = request.session.get(key + MARK)
    if mark is not None or not kept or int(kept[0]) != subject_id:
        request.session[key + MARK] = [subject_id, mark.isoformat() if mark else None]


def second_step_pending(request: HttpRequest, key: str) -> tuple[int, str] | None:
    """Who owes the second step here, and where they were going; None once five minutes pass."""
    pending = request.session.get(key)
    if not pending or int(time.time()) - int(pending[2]) > PENDING_SECONDS:
        request.session.pop(key, None)
        return None
    return int(pending[0]), str(pending[1])


def second_step_mark(request: HttpRequest, key: str, subject_id: int) -> datetime | None:
    """The mark this browser's password left on ``subject_id`` (see second_step_await), if any."""
    kept = request.session.get(key + MARK)
    if kept and int(kept[0]) == subject_id and kept[1]:
        return datetime.fromisoformat(kept[1])
    return None


def second_step_clear(request: HttpRequest, key: str) -> None:
    request.session.pop(key, None)
    request.session.pop(key + MARK, None)


class Idle(NamedTuple):
    expired: bool  # unused for longer than the limit: sign it out
    stamped: bool  # this use was noted (at most once a minute)


def idle_check(
    request: HttpRequest, key: str, limit_seconds: int, *, unstamped_is_idle: bool = False
) -> Idle:
    """Whether the session went unused for longer than ``limit_seconds``; if not, note this use.

    The server decides, from the session's own stamp: nothing the browser sends changes it. A
    session with no stamp yet has just begun, unless its sign-in stamps it (``unstamped_is_idle``).

    The stamp is written at most once every STAMP_SECONDS, so that a page that changes nothing
    else does not save the session: the time-out then counts from a stamp up to a minute old, so it
    can come up to a minute early, never late.
    """
    now = int(time.time())
    seen = request.session.get(key, 0 if unstamped_is_idle else None)
    if seen is not None and now - int(seen) > limit_seconds:
        return Idle(expired=True, stamped=False)
    if seen is not None and now - int(seen) < STAMP_SECONDS:
        return Idle(expired=False, stamped=False)
    request.session[key] = now
    return Idle(expired=False, stamped=True)


def lifetime_start(request: HttpRequest, key: str) -> None:
    """Note, under ``key``, that a sign-in begins now; it ends ABSOLUTE_LIFETIME from now.

    The session's own expiry (its cookie and its stored row) is pinned to that moment too, so
    later requests no longer slide it forward.
    """
    now = int(time.time())
    request.session[key] = now
    request.session.set_expiry(datetime.fromtimestamp(now + ABSOLUTE_LIFETIME, tz=UTC))


def lifetime_over(request: HttpRequest, key: str) -> bool:
    """Whether the sign-in noted under ``key`` is older than ABSOLUTE_LIFETIME (or unknown)."""
    started = request.session.get(key)
    return started is None or int(time.time()) - int(started) > ABSOLUTE_LIFETIME
