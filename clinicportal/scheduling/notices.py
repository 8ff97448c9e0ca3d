"""Emails about appointments: one for every change, with the appointment as an ``.ics``.

Every change of an appointment (booked, requested, confirmed, moved, cancelled) queues one email
through the outbox, in the change's transaction, with the appointment as a calendar invitation
(scheduling.ics), so the patient's calendar adds, updates or removes it. A time now booked
also gets its reminder (scheduling.reminders).

What the emails say. Emails carry no health information, only what the patient needs to come:
the practice, the date and time (in the practice's zone), the provider's name, the practice's
address and phone, and the portal link. Never:

- the kind of visit: the office names types freely, and a name such as "Glaucoma follow-up"
  tells anyone who reads the mailbox what the patient is treated for;
- the type's instructions, for the same reason;
- the office's message when it confirms, moves or cancels: staff write it freely, as they write
  secure messages, which are never emailed either. The email says only that the office left a
  message about the appointment, to read on the portal.

The email goes to whoever booked it online (an authorized user has an address of their own),
else to the patient, as billing's receipts do; with no address, none is sent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.core.http import absolute_url
from clinicportal.notifications.models import EmailSettings, OutboxEmail
from clinicportal.notifications.services import email_queue
from clinicportal.scheduling.ics import invitation
from clinicportal.scheduling.models import Appointment

TEMPLATES: dict[str, str] = {
    AuditEvent.Action.APPOINTMENT_BOOKED: "appointment_booked",
    AuditEvent.Action.APPOINTMENT_REQUESTED: "appointment_requested",
    AuditEvent.Action.APPOINTMENT_CONFIRMED: "appointment_confirmed",
    AuditEvent.Action.APPOINTMENT_MOVED: "appointment_moved",
    AuditEvent.Action.APPOINTMENT_CANCELLED: "appointment_cancelled",
}
# Changes that may leave the time booked: a reminder is then due before it.
BOOKING = (
    AuditEvent.Action.APPOINTMENT_BOOKED,
    AuditEvent.Action.APPOINTMENT_CONFIRMED,
    AuditEvent.Action.APPOINTMENT_MOVED,
)


def appointment_notify(
    *, actor: PortalActor | StaffActor, appointment: Appointment, action: str
) -> OutboxEmail | None:
    """Queue the email about this change and, for a time now booked, its reminder.

    Call inside the change's transaction: the email and the reminder's task commit with it.
    """
    template = TEMPLATES.get(action)
    if template is None:
        return None
    email = appointment_email_queue(
        appointment=appointment,
        template=template,
        by_office=isinstance(actor, StaffActor),
        calendar=True,
    )
    if action in BOOKING:
        # Imported here: the reminders queue their email with this module's function.
        from clinicportal.scheduling.reminders import reminder_schedule

        reminder_schedule(appointment)
    return email


def appointment_email_queue(
    *, appointment: Appointment, template: str, by_office: bool, calendar: bool
) -> OutboxEmail | None:
    """Queue ``emails/<template>`` about the appointment (with its .ics if ``calendar``) to
    its recipient; return it, or None when there is no address."""
    to = recipient(appointment)
    if not to:
        return None
    practice = appointment.practice
    portal_url = _portal_url(appointment)
    attachments = []
    if calendar:
        attachments.append(
            invitation(
                appointment=appointment,
                organizer=_organizer(appointment),
                attendee=to,
                portal_url=portal_url,
            )
        )
    return email_queue(
        practice=practice,
        to=to,
        template=template,
        context=_context(appointment, portal_url, by_office=by_office),
        attachments=attachments,
    )


def recipient(appointment: Appointment) -> str:
    """Where the appointment's emails go: who booked it online, else the patient; or ""."""
    account = appointment.booked_by_account
    return (account.email if account is not None else "") or appointment.patient.email


def _context(appointment: Appointment, portal_url: str, *, by_office: bool) -> dict[str, Any]:
    """What the templates may say: nothing about the kind of visit (see the module's doc)."""
    practice = appointment.practice
    return {
        "starts_at": appointment.starts_at,
        "provider": appointment.provider.name,
        "address_lines": [line.strip() for line in practice.address.splitlines() if line.strip()],
        "phone": practice.phone,
        "portal_url": portal_url,
        "requested": appointment.status == Appointment.Status.REQUESTED,
        "by_office": by_office,
        "office_message": bool(appointment.office_message.strip()),
    }


def _portal_url(appointment: Appointment) -> str:
    """The appointment's page under SCHEDULE (after signing in, if need be)."""
    return absolute_url(
        reverse("portal:appointment", args=[appointment.practice.slug, appointment.public_id])
    )


def _organizer(appointment: Appointment) -> str:
    """The practice's From address; before email is set up, one at the portal's host."""
    config = EmailSettings.objects.filter(practice=appointment.practice).first()
    if config is not None:
        return config.from_address
    return f"no-reply@{urlsplit(settings.CLINICPORTAL_BASE_URL).hostname}"
