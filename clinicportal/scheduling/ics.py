"""An appointment as a calendar invitation (iCalendar, RFC 5545; sent by email as iMIP).

One event per appointment, always under the same UID (its public id at the portal's host), so a
patient's calendar updates the event it already has: METHOD:REQUEST for a new or changed
appointment, METHOD:CANCEL for a cancelled one. SEQUENCE is the appointment's version, which
every move, confirmation and cancellation bumps (RFC 5546 2.1.4: a calendar keeps the invitation
with the highest SEQUENCE, and some ignore a CANCEL that does not raise it). Times are in UTC,
so no calendar has to know the practice's zone rules.

Like the emails, the invitation carries no health information: the practice, the time, the
provider and the address, never the kind of visit (see scheduling.notices).
"""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from clinicportal.notifications.models import EmailAttachment
from clinicportal.scheduling.models import Appointment

PRODUCT = "-//Clinic Portal//Schedule//EN"
FILENAME = "appointment.ics"

STATUS: dict[str, str] = {
    Appointment.Status.REQUESTED: "TENTATIVE",
    Appointment.Status.BOOKED: "CONFIRMED",
    Appointment.Status.CANCELLED: "CANCELLED",
}


def appointment_uid(appointment: Appointment) -> str:
    """The event's UID: the same for every invitation about this appointment."""
    return f"{appointment.public_id}@{urlsplit(settings.CLINICPORTAL_BASE_URL).hostname}"


def one_line(text: str) -> str:
    """A multi-line address as one line, for LOCATION."""
    return ", ".join(line.strip() for line in text.splitlines() if line.strip())


def invitation(
    *, appointment: Appointment, organizer: str, attendee: str, portal_url: str
) -> EmailAttachment:
    """The appointment as ``appointment.ics``: a REQUEST, or a CANCEL once it is cancelled.

    ``organizer`` is the practice's From address, ``attendee`` the address the email goes to.
    """
    practice = appointment.practice
    cancelled = appointment.status == Appointment.Status.CANCELLED
    method = "CANCEL" if cancelled else "REQUEST"

    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", appointment.version)
    event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
    event.add("dtstart", appointment.starts_at.astimezone(datetime.UTC))
    event.add("dtend", appointment.ends_at.astimezone(datetime.UTC))
    event.add("status", STATUS[appointment.status])
    event.add("summary", _("Appointment at %(practice)s") % {"practice": practice.name})
    if practice.address.strip():
        event.add("location", one_line(practice.address))
    event.add(
        "description",
        _("With %(provider)s. See, change or cancel it on the portal: %(url)s")
        % {"provider": appointment.provider.name, "url": portal_url},
    )
    event.add("url", portal_url)
    organizer_address = vCalAddress(f"mailto:{organizer}")
    organizer_address.params["cn"] = vText(practice.name)
    event.add("organizer", organizer_address)
    # The patient needs not answer: the appointment is made, or asked for, on the portal.
    guest = vCalAddress(f"mailto:{attendee}")
    guest.params["role"] = vText("REQ-PARTICIPANT")
    guest.params["partstat"] = vText("ACCEPTED")
    guest.params["rsvp"] = vText("FALSE")
    event.add("attendee", guest)

    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add_component(event)
    return EmailAttachment(
        filename=FILENAME,
        content_type=f"text/calendar; method={method}",
        content=calendar.to_ical().decode(),
    )
