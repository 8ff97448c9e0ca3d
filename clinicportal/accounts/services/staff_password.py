"""A staff member changing their own office password."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from clinicportal.accounts.passwords import validate_staff_password
from clinicportal.accounts.services.common import password_change_check
from clinicportal.accounts.services.notices import SignInChange, staff_sign_in_notify
from clinicportal.accounts.services.sessions import office_sessions_end_other
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.context import StaffActor


def staff_password_change(
    *, actor: StaffActor, current: str | None, new: str, session_key: str
) -> None:
    """Set a new office password for the signed-in staff member.

    The same checks as the portal's (``password_change_check``), then AUTH_PASSWORD_VALIDATORS
    with the practice's words.
    ``current`` may be None only while the password is temporary; a wrong one is recorded and
    counts toward the lockout. The change ends every other office session of the user (their
    rows go; Django's sessions also carry a hash of the password). The view keeps its own,
    ``session_key``, with ``office.auth.session_keep``.
    """
    user = actor.user
    password_change_check(owner=user, current=current, new=new, ip=actor.ip, actor=actor)
    try:
        validate_staff_password(new, user, actor.practice)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.error_list}) from None
    change = SignInChange.PASSWORD_CHOSEN if user.password_is_temporary else SignInChange.PASSWORD
    with transaction.atomic():
        user.set_password(new)
        user.password_is_temporary = False
        user.temporary_password_expires_at = None
        user.save(
            update_fields=["password", "password_is_temporary", "temporary_password_expires_at"]
        )
        audit_record(actor=actor, action=AuditEvent.Action.STAFF_PASSWORD_CHANGED, target=user)
        office_sessions_end_other(actor=actor, current_key=session_key)
        staff_sign_in_notify(user=user, event=change)
