"""Turning two-step sign-in on and off: portal accounts choose, staff always keep it on."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clinicportal.accounts import two_factor
from clinicportal.accounts.models import (
    PortalAccount,
    User,
)
from clinicportal.accounts.selectors import two_factor_pending
from clinicportal.accounts.services.common import _record_for_patients, current_password_confirm
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.context import (
    PortalActor,
    StaffActor,
)


def portal_two_factor_turn_on(*, actor: PortalActor, code: str) -> list[str]:
    """Confirm the enrolled authenticator; return the recovery codes to show once."""
    device = two_factor_pending(actor.account)
    if device is None:
        raise ValidationError({"code": _("Please start again: scan a new QR code.")})
    with transaction.atomic():
        codes = two_factor.two_factor_confirm(device=device, code=code)
        _record_for_patients(actor, actor.account, AuditEvent.Action.PORTAL_TWO_FACTOR_ON)
    return codes


def portal_two_factor_turn_off(*, actor: PortalActor, password: str) -> None:
    current_password_confirm(owner=actor.account, password=password, ip=actor.ip, field="password")
    with transaction.atomic():
        two_factor.two_factor_remove(owner=actor.account)
        _record_for_patients(actor, actor.account, AuditEvent.Action.PORTAL_TWO_FACTOR_OFF)


def two_factor_enrol(
    *, owner: User | PortalAccount, issuer: str, label: str
) -> two_factor.Enrollment:
    """Start enrolling an authenticator for a staff user or a portal account (not yet on)."""
    return two_factor.two_factor_begin(owner=owner, issuer=issuer, label=label)


def staff_two_factor_turn_on(
    *, user: User, code: str, ip: str | None, user_agent: str
) -> list[str]:
    """Confirm an office user's authenticator; return the recovery codes to show once."""
    device = two_factor_pending(user)
    if device is None:
        raise ValidationError({"code": _("Please start again: scan a new QR code.")})
    staff = user.staff_member
    with transaction.atomic():
        codes = two_factor.two_factor_confirm(device=device, code=code)
        actor = StaffActor(user=user, staff=staff, ip=ip, user_agent=user_agent)
        audit_record(actor=actor, action=AuditEvent.Action.STAFF_TWO_FACTOR_ON, target=user)
    return codes
