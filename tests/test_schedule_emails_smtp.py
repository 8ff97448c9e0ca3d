"""End to end: a booking's email leaves through the real worker and arrives, .ics and all, at a
real SMTP server, where the invitation parses back into the appointment."""

from __future__ import annotations

import datetime

import pytest
from icalendar import Calendar

from clinicportal.notifications.models import OutboxEmail
from clinicportal.practices.models import Practice
from clinicportal.scheduling.services import Choice, appointment_book, appointment_cancel
from tests.conftest import actor, run_worker
from tests.schedule_setup import at, patient_actor, schedule_on, weekday_ahead

pytestmark = pytest.mark.django_db(transaction=True)


def received_invitation(message) -> tuple[str, Calendar]:
    (attached,) = list(message.iter_attachments())
    assert attached.get_filename() == "appointment.ics"
    assert attached.get_content_type() == "text/calendar"
    return attached.get_param("method"), Calendar.from_ical(attached.get_content())


def test_the_booking_email_arrives_with_an_invitation_that_parses_back(
    alice, patient_a, email_settings, smtp_server
):
    provider, kind = schedule_on(alice)
    practice = Practice.objects.get(pk=alice.practice_id)
    booked = appointment_book(
        actor=patient_actor(alice, patient_a),
        choice=Choice(kind, provider, at(practice, weekday_ahead(practice), 9)),
        key="k",
    )
    run_worker()
    assert OutboxEmail.objects.get().status == "sent"
    (message,) = smtp_server.messages
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Your appointment at Clinic X Eye Care is booked"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and "9:00 AM" in text.get_content()

    method, calendar = received_invitation(message)
    assert method == "REQUEST" and str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"{booked.public_id}@testserver"
    assert event.decoded("sequence") == 1
    starts = event.decoded("dtstart")
    assert starts.utcoffset() == datetime.timedelta(0) and starts == booked.starts_at
    assert event.decoded("dtend") == booked.ends_at
    assert str(event["organizer"]) == "mailto:portal@clinic-x.example"

    # The office cancels: the same event, cancelled, arrives next.
    appointment_cancel(actor=actor(alice), appointment=booked, message="Sorry.")
    run_worker()
    cancelled = smtp_server.messages[1]
    method, calendar = received_invitation(cancelled)
    (event,) = calendar.walk("VEVENT")
    assert method == "CANCEL" and str(calendar["method"]) == "CANCEL"
    assert str(event["uid"]) == f"{booked.public_id}@testserver"
    assert str(event["status"]) == "CANCELLED"
