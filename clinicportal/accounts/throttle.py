"""Slow down password guessing: per username at a door, and per address.

Failures are rows in the database, so every app server sees the same count.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_noop

from clinicportal.accounts.models import LoginFailure
from clinicportal.practices.models import Practice

WINDOW = timedelta(minutes=15)
PER_USERNAME = 5
PER_ADDRESS = 20
# Failures read when a sign-in clears them. Attempts refused while paused are recorded too, so
# a username under attack has many, and a flood is still a flood.
CLEARED_COUNT_MAX = 1000
# Marked for the catalogue; translated where it is raised (gettext(LOCKED_MESSAGE)).
LOCKED_MESSAGE = gettext_noop(
    "Too many sign-in attempts. For your security, sign-in is paused for 15 minutes. "
    "You can reset your password, or call the office for help."
)


def login_locked(
    *, door: str, practice: Practice | None, username_key: str, ip: str | None
) -> bool:
    """Return whether sign-in is paused for this username, or for this address."""
    since = timezone.now() - WINDOW
    by_user = LoginFailure.objects.filter(
        door=door, at__gte=since, practice=practice, username_key=username_key
    )
    if by_user[:PER_USERNAME].count() >= PER_USERNAME:
        return True
    return address_locked(door=door, ip=ip)


def address_locked(*, door: str, ip: str | None) -> bool:
    """Return whether this address has failed too often at this door lately."""
    if ip is None:
        return False
    recent = LoginFailure.objects.filter(door=door, ip=ip, at__gte=timezone.now() - WINDOW)
    return recent[:PER_ADDRESS].count() >= PER_ADDRESS


def login_failure_record(
    *,
    door: str,
    practice: Practice | None,
    username_key: str,
    ip: str | None,
    stage: LoginFailure.Stage = LoginFailure.Stage.DOOR,
) -> None:
    LoginFailure.objects.create(
        door=door, practice=practice, username_key=username_key, ip=ip, stage=stage
    )


def wrong_code_lately(*, door: str, practice: Practice | None, username_key: str) -> bool:
    """Whether a wrong code after the right password was recorded within the window."""
    return LoginFailure.objects.filter(
        door=door,
        practice=practice,
        username_key=username_key,
        at__gte=timezone.now() - WINDOW,
        stage=LoginFailure.Stage.WRONG_CODE,
    ).exists()


def login_failures_clear(*, door: str, practice: Practice | None, username_key: str) -> int:
    """Forget a username's failures after it signs in (its address keeps its count); return
    how many of them were attempts to sign in within the window (at most CLEARED_COUNT_MAX):
    not a wrong password or code inside a signed-in session."""
    failures = LoginFailure.objects.filter(door=door, practice=practice, username_key=username_key)
    since = timezone.now() - WINDOW
    found = list(failures.order_by("-at").values_list("at", "stage")[:CLEARED_COUNT_MAX])
    if found:  # most sign-ins have none: one query, not two
        failures.delete()
    return sum(1 for at, stage in found if at >= since and stage != LoginFailure.Stage.SIGNED_IN)


def login_failures_prune() -> int:
    """Delete failures older than the window; return how many."""
    deleted, _ = LoginFailure.objects.filter(at__lt=timezone.now() - WINDOW).delete()
    return deleted
