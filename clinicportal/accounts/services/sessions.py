"""Sessions at both doors: start, touch, sign out, and ending them from elsewhere.

Each signed-in session has a row (PortalSession, OfficeSession) that every request checks, so
deleting the row ends the session at once, wherever its browser is. Pages name a row by its
``public_id``; the session key never leaves the server.
"""

from __future__ import annotations

import datetime
import uuid
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from clinicportal.accounts.models import (
    OfficeSession,
    PortalAccount,
    PortalGrant,
    PortalSession,
    User,
)
from clinicportal.accounts.services.common import _record_for_patients, current_password_confirm
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.access import NotFound, require_admin, require_reachable
from clinicportal.core.context import (
    PortalActor,
    StaffActor,
)
from clinicportal.core.devices import describe_device
from clinicportal.core.session_state import ABSOLUTE_LIFETIME
from clinicportal.practices.models import StaffMember


def _end(sessions: QuerySet[PortalSession] | QuerySet[OfficeSession]) -> int:
    """Delete these rows; return how many.

    The browsers' stored sessions stay until their next request, which finds the row gone and
    signs the browser out there: it is told why, and to clear the site's data.
    """
    ended, _ = sessions.delete()
    return ended


def sessions_prune() -> int:
    """Forget what ended sessions leave behind; return how many session rows went.

    A session row older than the absolute lifetime belongs to a session that is over (its next
    request would be signed out), and the stored sessions past their expiry (Django's own,
    under SESSION_ENGINE) can hold what was posted in them, such as search terms. Run by
    ``clinicportal sweep``.
    """
    cutoff = timezone.now() - datetime.timedelta(seconds=ABSOLUTE_LIFETIME)
    office, _ = OfficeSession.objects.filter(created_at__lt=cutoff).delete()
    portal, _ = PortalSession.objects.filter(created_at__lt=cutoff).delete()
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return office + portal


# The portal.


def portal_sessions_end(*, account: PortalAccount, except_key: str | None = None) -> int:
    """End the account's portal sessions (all, or all but ``except_key``); return how many."""
    sessions = PortalSession.objects.filter(account=account)
    if except_key is not None:
        sessions = sessions.exclude(session_key=except_key)
    return _end(sessions)


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


def portal_session_end(
    *, actor: PortalActor, public_id: uuid.UUID, current_key: str, password: str
) -> None:
    """Sign out one of the account's other devices ("Sign out this device" on ACCOUNT).

    Another account's session, this very session (that is Sign out) and an unknown id are all
    refused alike, with NotFound, whatever the password: the id is looked at first. Then the
    account's current password, asked again: a wrong one (ValidationError on ``password``)
    counts toward the sign-in lockout, is recorded in LOGS, and ends nothing.
    """
    sessions = PortalSession.objects.filter(account=actor.account, public_id=public_id).exclude(
        session_key=current_key
    )
    if not sessions.exists():
        raise NotFound("No such session.")
    # Outside the transaction below: a refusal must keep the failure it counted.
    current_password_confirm(
        owner=actor.account, password=password, ip=actor.ip, field="password", actor=actor
    )
    with transaction.atomic():
        if not _end(sessions):
            raise NotFound("No such session.")
        _record_for_patients(actor, actor.account, AuditEvent.Action.PORTAL_SESSION_ENDED)


def portal_sessions_end_all(*, actor: PortalActor, current_key: str, password: str) -> int:
    """ "Sign out everywhere": the current password again, then every other device; how many.

    As for one device, a wrong password counts toward the lockout and ends nothing. The view
    then signs this session out too (a copied session cookie looks like this device).
    """
    current_password_confirm(
        owner=actor.account, password=password, ip=actor.ip, field="password", actor=actor
    )
    return portal_sessions_end_other(actor=actor, current_key=current_key)


def portal_sessions_end_other(*, actor: PortalActor, current_key: str) -> int:
    """Sign out every other device of the account, keeping this session; return how many.

    Recorded in the patients' LOGS when it ended any. For whatever ends the account's other
    sessions (Sign out everywhere, turning two-step sign-in on or off).
    """
    with transaction.atomic():
        ended = portal_sessions_end(account=actor.account, except_key=current_key)
        if ended:
            _record_for_patients(
                actor, actor.account, AuditEvent.Action.PORTAL_OTHER_SESSIONS_ENDED
            )
    return ended


# The office.


def office_session_start(*, user: User, session_key: str, ip: str | None, user_agent: str) -> None:
    OfficeSession.objects.create(
        user=user,
        session_key=session_key,
        last_seen_at=timezone.now(),
        ip=ip,
        user_agent=user_agent,
    )


def session_rows_rekey(*, old_key: str, new_key: str, office: bool, portal: bool) -> None:
    """Keep the rows of a browser's sign-ins when its session changes its key.

    The office and the portal share one browser session; a sign-in, sign-out or password
    change at one door gives it a new key (no fixation), and the other door's sign-in must
    carry on under it. ``office``/``portal`` say which door's rows follow.
    """
    if not old_key or old_key == new_key:
        return
    if office:
        OfficeSession.objects.filter(session_key=old_key).update(session_key=new_key)
    if portal:
        PortalSession.objects.filter(session_key=old_key).update(session_key=new_key)


def office_session_touch(*, session_key: str) -> None:
    """Note activity on a session (for the staff member's list of signed-in devices)."""
    OfficeSession.objects.filter(session_key=session_key).update(last_seen_at=timezone.now())


def office_sign_out(*, actor: StaffActor, session_key: str, timed_out: bool = False) -> None:
    """End this session's row, recording a sign-out (or a time-out) in the staff trail."""
    action = AuditEvent.Action.STAFF_TIMED_OUT if timed_out else AuditEvent.Action.STAFF_LOGOUT
    with transaction.atomic():
        OfficeSession.objects.filter(user=actor.user, session_key=session_key).delete()
        audit_record(actor=actor, action=action)


def office_session_end(
    *, actor: StaffActor, public_id: uuid.UUID, current_key: str, password: str
) -> None:
    """Sign out one of the staff member's other devices ("Sign out this device", My account).

    Another staff member's session, this very session (that is Sign out) and an unknown id are
    all refused alike, with NotFound, whatever the password: the id is looked at first. Then
    the staff member's current password, asked again: a wrong one (ValidationError on
    ``password``) counts toward the sign-in lockout, is recorded in the trail, and ends nothing.
    """
    session = (
        OfficeSession.objects.filter(user=actor.user, public_id=public_id)
        .exclude(session_key=current_key)
        .first()
    )
    if session is None:
        raise NotFound("No such session.")
    # Outside the transaction below: a refusal must keep the failure it counted.
    current_password_confirm(
        owner=actor.user, password=password, ip=actor.ip, field="password", actor=actor
    )
    with transaction.atomic():
        if not _end(OfficeSession.objects.filter(pk=session.pk)):
            raise NotFound("No such session.")
        audit_record(
            actor=actor,
            action=AuditEvent.Action.STAFF_SESSION_ENDED,
            target=session,
            label=describe_device(session.user_agent),
        )


def office_sessions_end_all(*, actor: StaffActor, current_key: str, password: str) -> int:
    """ "Sign out everywhere": the current password again, then every other device; how many.

    As for one device, a wrong password counts toward the lockout and ends nothing. The view
    then signs this session out too (a copied session cookie looks like this device).
    """
    current_password_confirm(
        owner=actor.user, password=password, ip=actor.ip, field="password", actor=actor
    )
    return office_sessions_end_other(actor=actor, current_key=current_key)


def office_sessions_end_other(*, actor: StaffActor, current_key: str) -> int:
    """Sign out every other device of the staff member, keeping this session; return how many.

    Recorded in the staff trail when it ended any. For whatever ends the staff member's other
    sessions (Sign out everywhere, a password change, turning two-step sign-in on or off).
    """
    with transaction.atomic():
        ended = _end(OfficeSession.objects.filter(user=actor.user).exclude(session_key=current_key))
        if ended:
            audit_record(actor=actor, action=AuditEvent.Action.STAFF_OTHER_SESSIONS_ENDED)
    return ended


# An admin, for the practice (Admin → Staff).


def office_sessions_end_for_staff(*, actor: StaffActor, member: StaffMember) -> int:
    """Sign a staff member out of the office everywhere; return how many sessions ended.

    Admins only. Another practice's staff member is refused like an unknown one (NotFound), and
    so is the admin themselves: theirs is "Sign out everywhere" on My account, which signs this
    browser out too. Recorded in the staff trail, even when no session was left to end.
    """
    require_admin(actor)
    require_reachable(actor, member)
    if member.pk == actor.staff.pk:
        raise NotFound("An admin signs out their own sessions from My account.")
    with transaction.atomic():
        ended = _end(OfficeSession.objects.filter(user_id=member.user_id))
        audit_record(
            actor=actor,
            action=AuditEvent.Action.STAFF_SESSIONS_ENDED_BY_ADMIN,
            target=member,
            label=member.display_name,
        )
    return ended


def office_sessions_end_for_practice(*, actor: StaffActor, current_key: str) -> int:
    """Sign every staff member of the practice out of the office, but for this session.

    Admins only; the admin's own other devices end too. Returns how many sessions ended, and is
    recorded in the staff trail.
    """
    require_admin(actor)
    with transaction.atomic():
        ended = _end(
            OfficeSession.objects.filter(user__staff_member__practice=actor.practice).exclude(
                session_key=current_key
            )
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PRACTICE_STAFF_SIGNED_OUT,
            target=actor.practice,
            label=actor.practice.name,
        )
    return ended


def portal_sessions_end_for_grant(*, actor: StaffActor, grant: PortalGrant) -> int:
    """Sign one portal login of a patient out everywhere (say, left open on a shared computer).

    Its password stays as it is. Returns how many sessions ended; in the patient's LOGS.
    """
    require_reachable(actor, grant)
    with transaction.atomic():
        ended = portal_sessions_end(account=grant.account)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PORTAL_SIGNED_OUT_BY_OFFICE,
            target=grant.account,
            patient=grant.patient,
        )
    return ended


def portal_sessions_end_for_practice(*, actor: StaffActor) -> int:
    """Sign every patient and authorized user of the practice out of its portal.

    Admins only. Returns how many sessions ended, and is recorded in the staff trail (not in
    each patient's LOGS: their own next page tells them they were signed out).
    """
    require_admin(actor)
    with transaction.atomic():
        ended = _end(PortalSession.objects.filter(account__practice=actor.practice))
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PRACTICE_PORTAL_SIGNED_OUT,
            target=actor.practice,
            label=actor.practice.name,
        )
    return ended
