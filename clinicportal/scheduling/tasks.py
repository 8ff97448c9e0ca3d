"""Background jobs of the scheduling app: each calls a service."""

from __future__ import annotations

from django.tasks import task

from clinicportal.scheduling.reminders import appointment_reminder_send


@task()
def send_appointment_reminder(appointment_id: int, version: int) -> bool:
    """Send the appointment's reminder if it is still due; return whether one was queued."""
    return appointment_reminder_send(appointment_id=appointment_id, version=version) is not None
