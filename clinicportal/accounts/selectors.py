"""Reads of portal accounts and grants, scoped to the practice and the actor."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.db.models import Count, Exists, Expression, F, Max, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from clinicportal.accounts.models import (
    ApiKey,
    OfficeSession,
    PortalAccount,
    PortalGrant,
    PortalSession,
    TwoFactorDevice,
    User,
)
from clinicportal.core.access import NotFound, require_admin
from clinicportal.core.context import StaffActor
from clinicportal.core.devices import describe_device
from clinicportal.core.session_state import ABSOLUTE_LIFETIME
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice, StaffMember


@dataclass(frozen=True)
class PortalAccess:
    """A patient's portal access as the office sees it."""

    own: PortalGrant | None
    authorized: list[PortalGrant]


def _two_step_on() -> Exists:
    """Whether a grant's account has two-step sign-in on, for an ``annotate``."""
    return Exists(
        TwoFactorDevice.objects.filter(
            portal_account=OuterRef("account"), confirmed_at__isnull=False
        )
    )


def portal_access_for_patient(*, actor: StaffActor, patient: Patient) -> PortalAccess:
    """The patient's portal logins, each with ``two_step_on``."""
    grants = list(
        PortalGrant.objects.filter(practice=actor.practice, patient=patient)
        .select_related("account")
        .annotate(two_step_on=_two_step_on())
    )
    own = next((g for g in grants if g.kind == PortalGrant.Kind.PATIENT), None)
    return PortalAccess(own, [g for g in grants if g.kind == PortalGrant.Kind.AUTHORIZED])


def patient_portal_username(*, practice: Practice, patient: Patient) -> str | None:
    """The username of the patient's own portal account, or None when they have no access."""
    grant = (
        PortalGrant.objects.filter(
            practice=practice,
            patient=patient,
            kind=PortalGrant.Kind.PATIENT,
            account__is_active=True,
        )
        .select_related("account")
        .first()
    )
    return grant.account.username if grant else None


def authorized_grant_get(
    *, actor: StaffActor, patient: Patient, public_id: uuid.UUID
) -> PortalGrant:
    """Return one authorized web user of the patient, or 404."""
    try:
        return PortalGrant.objects.select_related("account", "patient").get(
            practice=actor.practice,
            patient=patient,
            public_id=public_id,
            kind=PortalGrant.Kind.AUTHORIZED,
        )
    except PortalGrant.DoesNotExist:
        raise Http404("No such authorized user.") from None


def portal_session_account(
    *, practice_slug: str, account_id: int, session_key: str
) -> PortalAccount | None:
    """Return the signed-in account of this session at this practice, if the session still holds.

    The account comes with its practice (``account.practice``), read in the same query.
    """
    session = (
        PortalSession.objects.select_related("account__practice")
        .filter(
            session_key=session_key,
            account_id=account_id,
            account__practice__slug=practice_slug,
            account__is_active=True,
        )
        .first()
    )
    return session.account if session else None


def portal_session_patients(
    *, practice_slug: str, account_id: int, session_key: str, **per_patient: Expression
) -> tuple[PortalAccount, list[Patient]] | None:
    """``portal_session_account`` and the patients the account may see, in name order: usually
    in one query.

    Each of ``per_patient`` is read in the same query and set on each patient under its name:
    an expression over the patient's grant, which has ``patient_id`` and ``practice_id``. An
    account that sees no patient at all costs a second query.
    """
    grants = list(
        PortalGrant.objects.select_related("account__practice", "patient")
        .filter(
            account_id=account_id,
            account__practice__slug=practice_slug,
            account__is_active=True,
            account__sessions__session_key=session_key,
            patient__practice=F("account__practice"),
        )
        .annotate(**per_patient)
        .order_by("patient__last_name_key", "patient__first_name_key", "patient__id")
    )
    if not grants:
        account = portal_session_account(
            practice_slug=practice_slug, account_id=account_id, session_key=session_key
        )
        return None if account is None else (account, [])
    for grant in grants:
        for name in per_patient:
            setattr(grant.patient, name, getattr(grant, name))
    return grants[0].account, [grant.patient for grant in grants]


def api_keys(*, actor: StaffActor) -> list[ApiKey]:
    """The practice's API keys, active first (admins only)."""
    require_admin(actor)
    return list(
        ApiKey.objects.filter(practice=actor.practice).select_related("created_by__staff_member")
    )


def api_key_get(*, actor: StaffActor, public_id: uuid.UUID) -> ApiKey:
    require_admin(actor)
    try:
        return ApiKey.objects.get(practice=actor.practice, public_id=public_id)
    except ApiKey.DoesNotExist:
        raise Http404("No such API key.") from None


def two_factor_device(owner: User | PortalAccount) -> TwoFactorDevice | None:
    """The owner's confirmed authenticator, if two-step sign-in is on."""
    field = "user" if isinstance(owner, User) else "portal_account"
    return TwoFactorDevice.objects.filter(**{field: owner}, confirmed_at__isnull=False).first()


def two_factor_pending(owner: User | PortalAccount) -> TwoFactorDevice | None:
    """The authenticator the owner is enrolling (not yet confirmed), if any."""
    field = "user" if isinstance(owner, User) else "portal_account"
    return TwoFactorDevice.objects.filter(**{field: owner}, confirmed_at__isnull=True).first()


def office_session_staff(*, user_id: int, session_key: str) -> StaffMember | None:
    """Return the active staff membership of a signed-in office session, if the session holds.

    The session holds while its OfficeSession row does (signing out a device deletes it). The
    membership comes with its practice and user, read in the same query.
    """
    return (
        StaffMember.objects.select_related("practice", "user")
        .filter(
            user_id=user_id,
            is_active=True,
            user__is_active=True,
            user__office_sessions__session_key=session_key,
        )
        .first()
    )


@dataclass(frozen=True)
class SignedInDevice:
    """One signed-in session as its owner sees it in their list (never its session key)."""

    public_id: uuid.UUID
    device: str  # "Firefox on Windows"
    ip: str | None
    signed_in: datetime.datetime
    last_seen: datetime.datetime
    current: bool  # this very browser


def _alive(idle_seconds: int, prefix: str = "") -> Q:
    """Session rows the server would still let in: within the lifetime and the idle limit.

    ``prefix`` leads from the rows filtered to the sessions (``"user__office_sessions__"``).
    """
    now = timezone.now()
    return Q(
        **{
            f"{prefix}created_at__gt": now - datetime.timedelta(seconds=ABSOLUTE_LIFETIME),
            f"{prefix}last_seen_at__gt": now - datetime.timedelta(seconds=idle_seconds),
        }
    )


def _devices(
    sessions: QuerySet[PortalSession] | QuerySet[OfficeSession],
    *,
    current_key: str,
    idle_seconds: int,
) -> list[SignedInDevice]:
    """The sessions still alive (within the lifetime, used within the idle limit), this one first.

    A browser closed without signing out leaves its row behind until the server would refuse
    it anyway; such rows are not listed.
    """
    rows = sessions.filter(_alive(idle_seconds) | Q(session_key=current_key)).order_by(
        "-last_seen_at", "-id"
    )
    devices = [
        SignedInDevice(
            public_id=row.public_id,
            device=describe_device(row.user_agent),
            ip=row.ip,
            signed_in=row.created_at,
            last_seen=row.last_seen_at,
            current=row.session_key == current_key,
        )
        for row in rows
    ]
    return sorted(devices, key=lambda d: not d.current)  # stable: the rest stay most recent first


def portal_devices(*, account: PortalAccount, current_key: str) -> list[SignedInDevice]:
    """The account's signed-in portal sessions, for its ACCOUNT page."""
    return _devices(
        PortalSession.objects.filter(account=account),
        current_key=current_key,
        idle_seconds=account.practice.portal_idle_minutes * 60,
    )


def office_devices(*, user: User, current_key: str, idle_seconds: int) -> list[SignedInDevice]:
    """The staff member's signed-in office sessions, for their My account page."""
    return _devices(
        OfficeSession.objects.filter(user=user), current_key=current_key, idle_seconds=idle_seconds
    )


def recovery_codes_left(device: TwoFactorDevice) -> int:
    """How many of the device's recovery codes are still unused."""
    return device.recovery_codes.filter(used_at__isnull=True).count()


# Admin → Staff: who is signed in, for an admin to sign them out.


def _staff_signed_in(*, actor: StaffActor, idle_seconds: int) -> QuerySet[StaffMember]:
    require_admin(actor)
    alive = _alive(idle_seconds, "user__office_sessions__")
    return (
        StaffMember.objects.filter(practice=actor.practice)
        .select_related("user")
        .annotate(
            signed_in=Count("user__office_sessions", filter=alive),
            last_seen=Max("user__office_sessions__last_seen_at", filter=alive),
        )
        .order_by("display_name", "id")
    )


def staff_signed_in(*, actor: StaffActor, idle_seconds: int) -> list[StaffMember]:
    """The practice's staff, each with ``signed_in`` (how many office sessions are alive) and
    ``last_seen`` (the latest use of one, or None), in one query, for Admin → Staff."""
    return list(_staff_signed_in(actor=actor, idle_seconds=idle_seconds))


def staff_member_signed_in(
    *, actor: StaffActor, public_id: uuid.UUID, idle_seconds: int
) -> StaffMember:
    """Another staff member of the practice, annotated as in ``staff_signed_in``; or NotFound.

    The admin themselves is refused like an unknown id: they sign out their own sessions from
    My account.
    """
    members = _staff_signed_in(actor=actor, idle_seconds=idle_seconds).exclude(pk=actor.staff.pk)
    try:
        return members.get(public_id=public_id)
    except StaffMember.DoesNotExist:
        raise NotFound("No such staff member.") from None


def practice_office_sessions_alive(*, actor: StaffActor, idle_seconds: int, except_key: str) -> int:
    """How many office sessions of the practice's staff are alive, this one left out."""
    require_admin(actor)
    return (
        OfficeSession.objects.filter(user__staff_member__practice=actor.practice)
        .filter(_alive(idle_seconds))
        .exclude(session_key=except_key)
        .count()
    )


def portal_grant_signed_in(
    *, actor: StaffActor, patient: Patient, public_id: uuid.UUID
) -> PortalGrant:
    """One of the patient's portal logins (their own or an authorized user's), with
    ``signed_in``: how many of its account's sessions are alive, and ``two_step_on``; or
    NotFound."""
    alive = _alive(actor.practice.portal_idle_minutes * 60, "account__sessions__")
    try:
        return (
            PortalGrant.objects.select_related("account", "patient")
            .annotate(
                signed_in=Count("account__sessions", filter=alive), two_step_on=_two_step_on()
            )
            .get(practice=actor.practice, patient=patient, public_id=public_id)
        )
    except PortalGrant.DoesNotExist:
        raise NotFound("No such portal login.") from None


def practice_portal_sessions_alive(*, actor: StaffActor) -> int:
    """How many portal sessions of the practice's accounts are alive."""
    require_admin(actor)
    return (
        PortalSession.objects.filter(account__practice=actor.practice)
        .filter(_alive(actor.practice.portal_idle_minutes * 60))
        .count()
    )
