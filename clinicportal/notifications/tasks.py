"""Background jobs of the notifications app: each loads its object and calls a service."""

from __future__ import annotations

from django.tasks import TaskContext, task

from clinicportal.notifications.delivery import outbox_send_due


@task(takes_context=True)
def deliver_email(context: TaskContext, email_id: int) -> int:
    """Send one email now if it is due. The worker finds queued emails in the outbox itself;
    this task remains for jobs queued before it did."""
    worker_ids = context.task_result.worker_ids
    return outbox_send_due(worker_id=worker_ids[-1] if worker_ids else "", only=email_id)
