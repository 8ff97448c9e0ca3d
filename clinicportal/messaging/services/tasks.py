"""Sign off the office's web-message tasks, and open them again."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.access import require_reachable
from clinicportal.core.context import StaffActor
from clinicportal.messaging.models import Task


class TaskUnchanged(Exception):
    """The task was already signed off (or already open): someone else got there first."""


def task_sign_off(*, actor: StaffActor, task: Task) -> None:
    """Sign the task off as the signed-in staff member, now."""
    require_reachable(actor, task)
    now = timezone.now()
    with transaction.atomic():
        changed = Task.objects.filter(pk=task.pk, signed_off_at__isnull=True).update(
            signed_off_at=now, signed_off_by=actor.user, signed_off_by_name=actor.name
        )
        if not changed:
            raise TaskUnchanged
        audit_record(
            actor=actor, action=AuditEvent.Action.TASK_SIGNED_OFF, target=task, patient=task.patient
        )
    task.signed_off_at, task.signed_off_by, task.signed_off_by_name = now, actor.user, actor.name


def task_reopen(*, actor: StaffActor, task: Task) -> None:
    """Open a signed-off task again."""
    require_reachable(actor, task)
    with transaction.atomic():
        changed = Task.objects.filter(pk=task.pk, signed_off_at__isnull=False).update(
            signed_off_at=None, signed_off_by=None, signed_off_by_name=""
        )
        if not changed:
            raise TaskUnchanged
        audit_record(
            actor=actor, action=AuditEvent.Action.TASK_REOPENED, target=task, patient=task.patient
        )
    task.signed_off_at, task.signed_off_by, task.signed_off_by_name = None, None, ""
