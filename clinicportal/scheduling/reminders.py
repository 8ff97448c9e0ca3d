"""The reminder email, ``reminder_hours`` before a booked appointment, sent by the worker.

When a time becomes booked (booked online, confirmed by the office, or moved), its change queues
a task, in the same transaction, to run at the reminder's time. The task sends the reminder only
if the appointment is then still booked at the same version (a move bumps it, and queues a
reminder of its own), has not begun, and has had no reminder yet; it sets ``reminder_sent_at``
in the transaction that queues the email, so a task run twice, or taken up again after its
worker was killed, sends one reminder.

A time booked already inside the reminder's window gets none: the email of the booking, sent at
once, says the time. A requested time gets its reminder once the office confirms it. Like the
other appointment emails, the reminder carries no health information (scheduling.notices).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from clinicportal.notifications.models import OutboxEmail
from clinicportal.scheduling.models import Appointment
from clinicportal.scheduling.notices import appointment_email_queue
from clinicportal.scheduling.selectors import schedule_settings_for

TEMPLATE = "appointment_reminder"


def reminder_schedule(appointment: Appointment) -> datetime.datetime | None:
    """Queue the reminder's task for a booked appointment; return when it runs, or None.

    Call inside the transaction that booked, confirmed or moved the appointment.
    """
    if appointment.status != Appointment.Status.BOOKED:
        return None
    hours = schedule_settings_for(appointment.practice).reminder_hours
    if not hours:
        return None
    due = appointment.starts_at - datetime.timedelta(hours=hours)
    if due <= timezone.now():
        return None
    from clinicportal.scheduling.tasks import send_appointment_reminder

    send_appointment_reminder.using(run_after=due).enqueue(appointment.pk, appointment.version)
    return due


def appointment_reminder_send(*, appointment_id: int, version: int) -> OutboxEmail | None:
    """Queue the reminder email if it is still due; return it, or None.

    Run by the worker at the reminder's time. Nothing is sent for an appointment cancelled,
    moved since, already begun or already reminded, nor after the practice turned reminders
    off. The conditional update claims the reminder; the email commits with it.
    """
    appointment = (
        Appointment.objects.select_related("practice", "provider", "patient", "booked_by_account")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None or not schedule_settings_for(appointment.practice).reminder_hours:
        return None
    now = timezone.now()
    with transaction.atomic():
        claimed = Appointment.objects.filter(
            pk=appointment_id,
            version=version,
            status=Appointment.Status.BOOKED,
            reminder_sent_at__isnull=True,
            starts_at__gt=now,
        ).update(reminder_sent_at=now)
        if not claimed:
            return None
        return appointment_email_queue(
            appointment=appointment, template=TEMPLATE, by_office=False, calendar=False
        )
