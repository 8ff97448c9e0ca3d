"""Portal sessions: start, touch, sign out, and ending them all at once; ending staff sessions."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from clinicportal.accounts.models import (
    PortalAccount,
    PortalSession,
    User,
)
from clinicportal.accounts.services.common import _record_for_patients
from clinicportal.audit.models import AuditEvent
from clinicportal.core.context import (
    PortalActor,
)


def portal_sessions_end(*, account: PortalAccount, except_key: str | None = None) -> int:
    """End the account's portal sessions (all, or all but ``except_key``); return how many."""
    sessions = PortalSession.objects.filter(account=account)
    if except_key is not None:
        sessions = sessions.exclude(session_key=except_key)
    keys = list(sessions.values_list("session_key", flat=True))
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(session_key=key).delete()
    sessions.delete()
    return len(keys)


def staff_sessions_end(*, user: User) -> None:
    """End every office session of ``user`` at once, as a new password does.

    Each session is signed with the user's password and ``session_epoch``; raising the epoch
    makes every signature wrong. To keep its own session, the caller then signs it again with
    ``django.contrib.auth.update_session_auth_hash(request, user)``.
    """
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


def portal_session_start(
    *, account: PortalAccount, session_key: str, ip: str | None, user_agent: str
) -> None:
    PortalSession.objects.create(
        account=account,
        session_key=session_key,
        last_seen_at=timezone.now(),
        ip=ip,
        user_agent=user_agent,
    )


def portal_session_touch(*, session_key: str) -> None:
    """Note activity on a session (for the office's view of who is signed in)."""
    PortalSession.objects.filter(session_key=session_key).update(last_seen_at=timezone.now())


def portal_sign_out(*, actor: PortalActor, session_key: str, timed_out: bool = False) -> None:
    """End this session, recording a sign-out (or a time-out) in the patients' LOGS."""
    action = AuditEvent.Action.PORTAL_TIMED_OUT if timed_out else AuditEvent.Action.PORTAL_LOGOUT
    with transaction.atomic():
        PortalSession.objects.filter(account=actor.account, session_key=session_key).delete()
        _record_for_patients(actor, actor.account, action)
