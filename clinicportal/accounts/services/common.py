"""What the account services share: limits, refusals and the LOGS rows for each patient."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clinicportal.accounts import throttle
from clinicportal.accounts.models import LoginFailure, PortalAccount, PortalGrant, User
from clinicportal.accounts.passwords import password_matches, username_key
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.context import Actor, PortalActor, StaffActor
from clinicportal.practices.models import Practice

USERNAME_MAX = 150


class SignInRefused(Exception):
    """Sign-in did not succeed; ``message`` is safe to show."""

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        # "locked" while the throttle pauses sign-in; "expired" for a right temporary password
        # past its lifetime (safe to say: only who knows the password learns it)
        self.code = code


def _record_for_patients(
    actor: Actor,
    account: PortalAccount,
    action: AuditEvent.Action,
    grants: Iterable[PortalGrant] | None = None,
) -> None:
    """One row per patient the account sees, so that each patient's LOGS shows it.

    ``grants``, when the caller already read them with their patients, saves reading them again.
    """
    if grants is None:
        grants = account.grants.select_related("patient")
    for grant in grants:
        audit_record(actor=actor, action=action, target=account, patient=grant.patient)


def failure_count_key(owner: PortalAccount | User) -> tuple[str, Practice | None, str]:
    """Where the throttle counts the account's failures: its door, practice and username key."""
    if isinstance(owner, PortalAccount):
        return LoginFailure.Door.PORTAL, owner.practice, owner.username_key
    return LoginFailure.Door.OFFICE, None, username_key(owner.username)[:USERNAME_MAX]


def current_password_confirm(
    *,
    owner: PortalAccount | User,
    password: str,
    ip: str | None,
    field: str,
    actor: PortalActor | StaffActor | None = None,
) -> None:
    """Check a signed-in person's current password, counted like a failed sign-in.

    Guesses inside a session (change password, turn two-step off) count toward the same
    lockout as guesses at the door. Raises ValidationError on ``field`` when wrong or locked;
    with the ``actor`` that asked, the refusal is also recorded in the trail (and LOGS).
    """
    door, practice, key = failure_count_key(owner)
    if isinstance(owner, PortalAccount):
        matches = password_matches(password, owner.password)
    else:
        matches = owner.check_password(password)
    if throttle.login_locked(door=door, practice=practice, username_key=key, ip=ip):
        if actor is not None:
            _record_refusal(actor, locked=True)
        raise ValidationError({field: _(throttle.LOCKED_MESSAGE)})
    if not matches:
        with transaction.atomic():
            throttle.login_failure_record(
                door=door,
                practice=practice,
                username_key=key,
                ip=ip,
                stage=LoginFailure.Stage.SIGNED_IN,
            )
            if actor is not None:
                _record_refusal(actor, locked=False)
        raise ValidationError({field: _("That is not your current password.")})


def password_change_check(
    *,
    owner: PortalAccount | User,
    current: str | None,
    new: str,
    ip: str | None,
    actor: PortalActor | StaffActor | None = None,
) -> None:
    """Check what a signed-in person gave to change their password, at either door.

    ``current`` is required, except right after signing in with a temporary password; a wrong
    one counts toward the sign-in lockout. The new password must differ from the current one.
    Raises ValidationError on ``current_password`` or ``new_password``.
    """
    if current is None:
        if not owner.password_is_temporary:
            raise ValidationError({"current_password": _("Please enter your current password.")})
    else:
        current_password_confirm(
            owner=owner, password=current, ip=ip, field="current_password", actor=actor
        )
    if password_matches(new, owner.password):
        raise ValidationError(
            {"new_password": _("Please choose a password different from the current one.")}
        )


def _record_refusal(actor: PortalActor | StaffActor, *, locked: bool) -> None:
    Action = AuditEvent.Action
    if isinstance(actor, PortalActor):
        action = Action.PORTAL_LOCKED_OUT if locked else Action.PORTAL_PASSWORD_CHECK_FAILED
        _record_for_patients(actor, actor.account, action)
    else:
        action = Action.STAFF_LOCKED_OUT if locked else Action.STAFF_PASSWORD_CHECK_FAILED
        audit_record(actor=actor, action=action, target=actor.user)


def portal_account_email(account: PortalAccount) -> str:
    """Return where the account's emails go: the patient's own address for a patient's login.

    One source of truth: the office edits the patient's email, and a patient's login follows
    it. An authorized web user (a guardian) has an address of their own on the account.
    """
    own = account.grants.select_related("patient").filter(kind=PortalGrant.Kind.PATIENT).first()
    return own.patient.email if own else account.email
