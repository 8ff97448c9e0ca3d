"""What the account services share: limits, refusals and the LOGS rows for each patient."""

from __future__ import annotations

from clinicportal.accounts.models import (
    PortalAccount,
)
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.context import (
    Actor,
)

USERNAME_MAX = 150


class SignInRefused(Exception):
    """Sign-in did not succeed; ``message`` is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _record_for_patients(actor: Actor, account: PortalAccount, action: AuditEvent.Action) -> None:
    # One row per patient the account sees, so that each patient's LOGS shows it.
    for grant in account.grants.select_related("patient"):
        audit_record(actor=actor, action=action, target=account, patient=grant.patient)
