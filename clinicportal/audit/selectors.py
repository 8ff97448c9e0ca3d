"""Reads of the audit trail."""

from __future__ import annotations

from django.db.models import QuerySet

from clinicportal.audit.models import PORTAL_LOG_ACTIONS, AuditEvent
from clinicportal.core.context import PortalActor


def portal_log_for_patient(*, actor: PortalActor) -> QuerySet[AuditEvent]:
    """Return the LOGS of the patient the portal account is acting for, newest first."""
    if actor.patient is None:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(
        practice=actor.practice, patient=actor.patient, action__in=PORTAL_LOG_ACTIONS
    )
