"""Background jobs of the notifications app: each loads its object and calls a service."""

from __future__ import annotations

from django.tasks import task

from clinicportal.notifications.delivery import email_deliver


@task()
def deliver_email(email_id: int) -> str:
    return email_deliver(email_id=email_id)
