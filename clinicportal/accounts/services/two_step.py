"""Turning two-step sign-in on and off, and new recovery codes, for portal accounts and staff.

Each asks for the account's password and a code that proves the authenticator: the new app's
code to turn it on; the app's code or a recovery code to turn it off or make new recovery codes.
Turning it on or off ends the account's other sessions, as a new password does. A wrong
password or code changes nothing, counts toward the sign-in lockout and is recorded. Staff
always keep it on: the office requires it of everyone.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clinicportal.accounts import throttle, two_factor
from clinicportal.accounts.models import (
    LoginFailure,
    PortalAccount,
    PortalGrant,
    TwoFactorDevice,
    User,
)
from clinicportal.accounts.selectors import two_factor_device, two_factor_pending
from clinicportal.accounts.services.common import (
    _record_for_patients,
    current_password_confirm,
    failure_count_key,
)
from clinicportal.accounts.services.notices import (
    SignInChange,
    sign_in_change_notify,
    staff_sign_in_notify,
)
from clinicportal.accounts.services.sessions import office_sessions_end_other, portal_sessions_end
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.access import require_reachable
from clinicportal.core.context import PortalActor, StaffActor


def _record(
    actor: StaffActor | PortalActor, staff: AuditEvent.Action, portal: AuditEvent.Action
) -> None:
    if isinstance(actor, PortalActor):
        _record_for_patients(actor, actor.account, portal)
    else:
        audit_record(actor=actor, action=staff, target=actor.user)


def _owner(actor: StaffActor | PortalActor) -> User | PortalAccount:
    return actor.account if isinstance(actor, PortalActor) else actor.user


def _code_confirm(*, actor: StaffActor | PortalActor, device: TwoFactorDevice, code: str) -> None:
    """Check a code of the enrolled authenticator (or a recovery code), used up if right.

    A wrong one counts toward the lockout and is recorded; raises ValidationError on ``code``.
    """
    owner = _owner(actor)
    door, practice, key = failure_count_key(owner)
    if throttle.login_locked(door=door, practice=practice, username_key=key, ip=actor.ip):
        raise ValidationError({"code": _(throttle.LOCKED_MESSAGE)})
    used = two_factor.two_factor_check(device=device, code=code)
    if used is None:
        with transaction.atomic():
            throttle.login_failure_record(
                door=door,
                practice=practice,
                username_key=key,
                ip=actor.ip,
                stage=LoginFailure.Stage.SIGNED_IN,
            )
            _record(
                actor, AuditEvent.Action.STAFF_CODE_FAILED, AuditEvent.Action.PORTAL_CODE_FAILED
            )
        raise ValidationError({"code": _(two_factor.WRONG_CODE)})
    if used == two_factor.RECOVERY:
        _record(
            actor,
            AuditEvent.Action.STAFF_RECOVERY_CODE_USED,
            AuditEvent.Action.PORTAL_RECOVERY_CODE_USED,
        )


def _other_sessions_end(actor: StaffActor | PortalActor, session_key: str) -> None:
    if isinstance(actor, PortalActor):
        portal_sessions_end(account=actor.account, except_key=session_key)
    else:
        office_sessions_end_other(actor=actor, current_key=session_key)


def two_factor_enrol(
    *, owner: User | PortalAccount, issuer: str, label: str
) -> two_factor.Enrollment:
    """Start enrolling an authenticator for a staff user or a portal account (not yet on)."""
    return two_factor.two_factor_begin(owner=owner, issuer=issuer, label=label)


def two_factor_turn_on(
    *, actor: StaffActor | PortalActor, password: str | None, code: str, session_key: str
) -> list[str]:
    """Confirm the enrolled authenticator; return the recovery codes to show once.

    ``password`` is None only while signing in, right after the door checked it. The account's
    other sessions end.
    """
    owner = _owner(actor)
    device = two_factor_pending(owner)
    if device is None:
        raise ValidationError({"code": _("Please start again: scan a new QR code.")})
    if password is not None:
        _password_confirm(actor, password)
    try:
        with transaction.atomic():
            codes = two_factor.two_factor_confirm(device=device, code=code)
            _record(
                actor, AuditEvent.Action.STAFF_TWO_FACTOR_ON, AuditEvent.Action.PORTAL_TWO_FACTOR_ON
            )
            _other_sessions_end(actor, session_key)
            _notify(actor, SignInChange.TWO_STEP_ON)
    except two_factor.AlreadyOn:
        raise  # a second submit, not a wrong code
    except ValidationError:
        _record(actor, AuditEvent.Action.STAFF_CODE_FAILED, AuditEvent.Action.PORTAL_CODE_FAILED)
        raise
    return codes


def two_factor_turn_off(
    *, actor: StaffActor | PortalActor, password: str, code: str, session_key: str
) -> None:
    """Turn a patient's two-step sign-in off and end the account's other sessions.

    Staff always keep it on: the office requires it of everyone.
    """
    if isinstance(actor, StaffActor):
        raise ValidationError(_("Staff must keep two-step sign-in on."))
    device = two_factor_device(_owner(actor))
    if device is None:
        raise ValidationError(_("Two-step sign-in is already off."))
    _password_confirm(actor, password)
    _code_confirm(actor=actor, device=device, code=code)
    with transaction.atomic():
        two_factor.two_factor_remove(owner=_owner(actor))
        _record(
            actor, AuditEvent.Action.STAFF_TWO_FACTOR_OFF, AuditEvent.Action.PORTAL_TWO_FACTOR_OFF
        )
        _other_sessions_end(actor, session_key)
        _notify(actor, SignInChange.TWO_STEP_OFF)


def recovery_codes_renew(
    *, actor: StaffActor | PortalActor, password: str, code: str, session_key: str
) -> list[str]:
    """Replace the account's recovery codes with new ones; return them, to show once.

    The account's other sessions end, as for every change of its sign-in: someone who used an
    old code is signed out with it (ASVS 7.4.3).
    """
    device = two_factor_device(_owner(actor))
    if device is None:
        raise ValidationError(_("Turn on two-step sign-in first."))
    _password_confirm(actor, password)
    _code_confirm(actor=actor, device=device, code=code)
    with transaction.atomic():
        codes = two_factor.recovery_codes_replace(device=device)
        _record(
            actor,
            AuditEvent.Action.STAFF_RECOVERY_CODES_RENEWED,
            AuditEvent.Action.PORTAL_RECOVERY_CODES_RENEWED,
        )
        _other_sessions_end(actor, session_key)
        _notify(actor, SignInChange.RECOVERY_CODES)
    return codes


def _notify(actor: StaffActor | PortalActor, change: SignInChange) -> None:
    """The account's owner hears of the change by email: a patient's side, or the staff member
    (but of the first authenticator, which every staff member sets up at their first sign-in)."""
    if isinstance(actor, PortalActor):
        sign_in_change_notify(account=actor.account, change=change)
    elif change is not SignInChange.TWO_STEP_ON:
        staff_sign_in_notify(user=actor.user, event=change)


def _password_confirm(actor: StaffActor | PortalActor, password: str) -> None:
    owner = _owner(actor)
    current_password_confirm(
        owner=owner, password=password, ip=actor.ip, field="password", actor=actor
    )


def portal_two_factor_reset(*, actor: StaffActor, grant: PortalGrant) -> bool:
    """Turn two-step sign-in off for one of the patient's portal logins, from the office.

    For an owner who lost their authenticator and their recovery codes, or whose password
    someone used to set up an authenticator of their own: the office checks who is asking
    first, as before reissuing a password. Every session of the login ends, the patient's LOGS
    shows it, and the owner is told by email. Returns False when it was off already (a second
    click), having changed nothing.
    """
    require_reachable(actor, grant)
    account = grant.account
    with transaction.atomic():
        device = (
            TwoFactorDevice.objects.select_for_update()
            .filter(portal_account=account, confirmed_at__isnull=False)
            .first()
        )
        if device is None:
            return False
        two_factor.two_factor_remove(owner=account)
        portal_sessions_end(account=account)
        _record_for_patients(actor, account, AuditEvent.Action.PORTAL_TWO_FACTOR_RESET)
        sign_in_change_notify(account=account, change=SignInChange.TWO_STEP_RESET)
    return True
