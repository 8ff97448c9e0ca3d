"""The office's tasks: an appointment change from the portal makes one, and so do a submitted
form and a refund the processor reports failed; sign off, open again.

A web message's task is written with the message (sending.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.access import require_reachable
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.messaging.models import FORM_CATEGORY, REFUND_CATEGORY, Category, Task

if TYPE_CHECKING:
    from clinicportal.billing.models import Refund
    from clinicportal.intake.models import Submission
    from clinicportal.scheduling.models import Appointment

# What each change made on the portal puts on the office's list; the office's own make nothing.
_HAPPENED = {
    AuditEvent.Action.APPOINTMENT_REQUESTED: Task.Happened.REQUESTED,
    AuditEvent.Action.APPOINTMENT_BOOKED: Task.Happened.BOOKED,
    AuditEvent.Action.APPOINTMENT_MOVED: Task.Happened.MOVED,
    AuditEvent.Action.APPOINTMENT_CANCELLED: Task.Happened.CANCELLED,
}


def appointment_task_record(
    *, actor: PortalActor | StaffActor, appointment: Appointment, action: AuditEvent.Action
) -> Task | None:
    """Tell the office what a patient did to an appointment: book, request, move or cancel it.

    Called inside the change's transaction, which holds the appointment's row (new, locked
    for a move, updated by a cancel), so two changes of one appointment come one after the
    other. While the appointment's task is still open it is brought up to date (what happened
    last, and when) instead of adding another: the office answers the appointment as it is
    now, once. A change the office made itself makes no task.
    """
    happened = _HAPPENED.get(action)
    if not isinstance(actor, PortalActor) or happened is None:
        return None
    now = timezone.now()
    open_task = Task.objects.filter(appointment=appointment, signed_off_at__isnull=True).first()
    if open_task is not None:
        Task.objects.filter(pk=open_task.pk).update(happened=happened, created_at=now)
        open_task.happened, open_task.created_at = happened, now
        return open_task
    return Task.objects.create(
        practice_id=appointment.practice_id,
        patient_id=appointment.patient_id,
        kind=Task.Kind.APPOINTMENT,
        appointment=appointment,
        happened=happened,
        category=Category.APPOINTMENT,
        created_at=now,
    )


def form_task_record(*, submission: Submission) -> Task:
    """Ask the office to review a form a patient submitted; inside the submission's
    transaction (one submission, one task: the submission's row is unique to it)."""
    return Task.objects.create(
        practice_id=submission.practice_id,
        patient_id=submission.patient_id,
        kind=Task.Kind.FORM,
        submission=submission,
        category=FORM_CATEGORY,
        created_at=submission.submitted_at or timezone.now(),
    )


def refund_task_record(*, refund: Refund) -> Task:
    """Ask the office to give back another way the money of a refund the processor could not
    make; inside the transaction that marked it refused. Once: that marking is a conditional
    update (or the refund's new row), and the refund is unique to its task."""
    return Task.objects.create(
        practice_id=refund.practice_id,
        patient_id=refund.patient_id,
        kind=Task.Kind.REFUND,
        refund=refund,
        category=REFUND_CATEGORY,
        created_at=timezone.now(),
    )


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
