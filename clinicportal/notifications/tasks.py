"""Background jobs of the notifications app: each loads its object and calls a service."""

from __future__ import annotations

from django.tasks import TaskContext, task

from clinicportal.notifications.delivery import email_deliver


@task(takes_context=True)
def deliver_email(context: TaskContext, email_id: int) -> str:
    worker_ids = context.task_result.worker_ids
    return email_deliver(email_id=email_id, worker_id=worker_ids[-1] if worker_ids else "")
