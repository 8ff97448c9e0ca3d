"""Record audit events. Called by other services inside their own transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from clinicportal.audit.models import AuditEvent
from clinicportal.core.context import Actor, PortalActor, StaffActor

if TYPE_CHECKING:
    from clinicportal.patients.models import Patient


def audit_record(
    *,
    actor: Actor,
    action: AuditEvent.Action,
    target: models.Model | None = None,
    patient: Patient | None = None,
    label: str | None = None,
) -> AuditEvent:
    """Append one event for ``actor`` doing ``action`` to ``target`` (about ``patient``).

    ``label`` is the target's name as people know it now (a record's description), kept as it
    was: renaming the target later does not rewrite the trail. It defaults to the target's
    ``audit_label`` when it has one.
    """
    if label is None:
        label = str(getattr(target, "audit_label", ""))
    object_id = ""
    if target is not None:
        object_id = str(getattr(target, "public_id", None) or target.pk)
    return AuditEvent.objects.create(
        practice=actor.practice,
        actor_user=actor.user if isinstance(actor, StaffActor) else None,
        actor_portal_account=actor.account if isinstance(actor, PortalActor) else None,
        actor_name=actor.name,
        acting_for=actor.patient if isinstance(actor, PortalActor) else None,
        patient=patient,
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=object_id,
        object_label=label[: AuditEvent._meta.get_field("object_label").max_length or 300],
        ip=actor.ip,
        user_agent=actor.user_agent,
    )
