"""Appointment emails: one for every change, through the outbox, with an .ics that parses back."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from icalendar import Calendar

from clinicportal.accounts.services.portal_access import authorized_user_add
from clinicportal.core.context import PortalActor
from clinicportal.notifications.models import OutboxEmail
from clinicportal.practices.models import Practice
from clinicportal.scheduling.models import Appointment, AppointmentType, ScheduleSettings
from clinicportal.scheduling.services import (
    Choice,
    SlotTaken,
    appointment_book,
    appointment_cancel,
    appointment_confirm,
    appointment_move,
)
from tests.conftest import actor
from tests.schedule_setup import at, patient_actor, schedule_on, weekday_ahead

# Not the server's zone (America/New_York): the emails must say the practice's own time.
DENVER = "America/Denver"


@pytest.fixture
def practice(alice) -> Practice:
    Practice.objects.filter(pk=alice.practice_id).update(time_zone=DENVER)
    alice.practice.refresh_from_db()
    return alice.practice


def schedule(alice, mode: str = ScheduleSettings.Mode.BOOK):
    provider, kind = schedule_on(alice, mode=mode)
    return Practice.objects.get(pk=alice.practice_id), provider, kind


def invitation(email: OutboxEmail) -> Calendar:
    """The email's one attachment, an .ics, parsed back."""
    (attached,) = email.attached
    assert attached.filename == "appointment.ics"
    assert attached.content_type.startswith("text/calendar; method=")
    return Calendar.from_ical(attached.content)


def event_of(calendar: Calendar):
    (event,) = calendar.walk("VEVENT")
    return event


def utc_of(event, name: str) -> datetime.datetime:
    value = event.decoded(name)
    assert value.utcoffset() == datetime.timedelta(0), f"{name} is not in UTC"
    return value


def test_a_booking_emails_the_patient_an_invitation(practice, alice, patient_a, email_settings):
    practice, provider, kind = schedule(alice)
    day = weekday_ahead(practice)
    booked = appointment_book(
        actor=patient_actor(alice, patient_a),
        choice=Choice(kind, provider, at(practice, day, 9)),
        key="k",
    )
    email = OutboxEmail.objects.get()
    assert email.kind == "appointment_booked" and email.to == "ada@example.com"
    assert email.subject == "Your appointment at Clinic X Eye Care is booked"
    # The practice's time, in the practice's zone (Denver), in both parts.
    when = at(practice, day, 9)
    assert when.strftime("%A, %B %-d, %Y") in email.body_text
    assert "9:00 AM M" in email.body_text  # MST or MDT
    assert "9:00 AM M" in email.body_html
    assert "Dr. Chen" in email.body_text and "1 Main Street" in email.body_text
    # A link to the appointment's own page under SCHEDULE, in both parts.
    page = f"http://testserver/p/clinic-x/schedule/{booked.public_id}/"
    assert page in email.body_text and page in email.body_html

    calendar = invitation(email)
    assert str(calendar["method"]) == "REQUEST"
    event = event_of(calendar)
    assert str(event["uid"]) == f"{booked.public_id}@testserver"
    assert int(event["sequence"]) == booked.version == 1
    assert utc_of(event, "dtstart") == booked.starts_at
    assert utc_of(event, "dtend") == booked.ends_at
    utc = booked.starts_at.astimezone(datetime.UTC)
    assert "DTSTART:" + utc.strftime("%Y%m%dT%H%M%SZ") in email.attached[0].content
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["summary"]) == "Appointment at Clinic X Eye Care"
    assert str(event["location"]) == "1 Main Street, Portland, ME 04101"
    assert event["organizer"].params["cn"] == "Clinic X Eye Care"
    assert str(event["organizer"]) == "mailto:portal@clinic-x.example"
    assert str(event["attendee"]) == "mailto:ada@example.com"


def test_a_request_then_its_confirmation_each_email_the_same_event(practice, alice, patient_a):
    practice, provider, kind = schedule(alice, ScheduleSettings.Mode.REQUEST)
    asked = appointment_book(
        actor=patient_actor(alice, patient_a),
        choice=Choice(kind, provider, at(practice, weekday_ahead(practice), 10)),
        key="k",
    )
    requested = OutboxEmail.objects.get()
    assert requested.kind == "appointment_requested"
    assert requested.subject == "Clinic X Eye Care received your appointment request"
    assert "The office will confirm it" in requested.body_text
    assert str(event_of(invitation(requested))["status"]) == "TENTATIVE"

    appointment_confirm(actor=actor(alice), appointment=asked)
    appointment_confirm(actor=actor(alice), appointment=asked)  # twice is once: one email
    confirmed = OutboxEmail.objects.get(kind="appointment_confirmed")
    assert confirmed.subject == "Your appointment at Clinic X Eye Care is confirmed"
    event = event_of(invitation(confirmed))
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["uid"]) == str(event_of(invitation(requested))["uid"])
    # The same event, a higher SEQUENCE: the calendar replaces the tentative one.
    assert int(event["sequence"]) == int(event_of(invitation(requested))["sequence"]) + 1
    assert OutboxEmail.objects.count() == 2


def test_a_move_sends_the_new_time_under_a_higher_sequence(practice, alice, patient_a):
    practice, provider, kind = schedule(alice)
    day = weekday_ahead(practice)
    ada = patient_actor(alice, patient_a)
    booked = appointment_book(
        actor=ada, choice=Choice(kind, provider, at(practice, day, 9)), key="k"
    )
    moved = appointment_move(
        actor=ada, appointment=booked, choice=Choice(kind, provider, at(practice, day, 14))
    )
    email = OutboxEmail.objects.get(kind="appointment_moved")
    assert email.subject == "Your appointment at Clinic X Eye Care has a new time"
    assert "2:00 PM" in email.body_text
    calendar = invitation(email)
    assert str(calendar["method"]) == "REQUEST"
    event = event_of(calendar)
    assert str(event["uid"]) == f"{booked.public_id}@testserver"
    assert int(event["sequence"]) == moved.version == 2
    assert utc_of(event, "dtstart") == at(practice, day, 14)


def test_a_move_asked_for_in_request_mode_says_the_office_will_confirm(practice, alice, patient_a):
    practice, provider, kind = schedule(alice)
    day = weekday_ahead(practice)
    ada = patient_actor(alice, patient_a)
    booked = appointment_book(
        actor=ada, choice=Choice(kind, provider, at(practice, day, 9)), key="k"
    )
    ScheduleSettings.objects.filter(practice=practice).update(mode=ScheduleSettings.Mode.REQUEST)
    appointment_move(
        actor=ada, appointment=booked, choice=Choice(kind, provider, at(practice, day, 14))
    )
    email = OutboxEmail.objects.get(kind="appointment_moved")
    assert email.subject == "Clinic X Eye Care received your request for a new time"
    assert str(event_of(invitation(email))["status"]) == "TENTATIVE"


def test_a_cancellation_by_the_patient_removes_the_event(practice, alice, patient_a):
    practice, provider, kind = schedule(alice)
    ada = patient_actor(alice, patient_a)
    booked = appointment_book(
        actor=ada,
        choice=Choice(kind, provider, at(practice, weekday_ahead(practice), 9)),
        key="k",
    )
    appointment_cancel(actor=ada, appointment=booked)
    appointment_cancel(actor=ada, appointment=booked)  # twice is once: one email
    email = OutboxEmail.objects.get(kind="appointment_cancelled")
    assert email.subject == "Your appointment at Clinic X Eye Care is cancelled"
    assert "as asked on the portal" in email.body_text
    assert "message" not in email.body_text
    calendar = invitation(email)
    assert str(calendar["method"]) == "CANCEL"
    assert email.attached[0].content_type == "text/calendar; method=CANCEL"
    event = event_of(calendar)
    assert str(event["status"]) == "CANCELLED"
    assert str(event["uid"]) == f"{booked.public_id}@testserver"
    # Higher than the booking's 1, so the calendar takes the cancellation.
    assert int(event["sequence"]) == 2


def test_an_office_cancellation_points_to_its_message_on_the_portal(practice, alice, patient_a):
    practice, provider, kind = schedule(alice)
    booked = appointment_book(
        actor=patient_actor(alice, patient_a),
        choice=Choice(kind, provider, at(practice, weekday_ahead(practice), 9)),
        key="k",
    )
    appointment_cancel(
        actor=actor(alice), appointment=booked, message="Dr. Chen is away; we will call you."
    )
    email = OutboxEmail.objects.get(kind="appointment_cancelled")
    assert "The office cancelled" in email.body_text
    assert "The office left you a message about it" in email.body_text
    assert "away" not in email.body_text + email.body_html + email.attached[0].content
    assert str(invitation(email)["method"]) == "CANCEL"


def test_no_email_names_the_kind_of_visit_its_instructions_or_the_office_message(
    practice, alice, patient_a
):
    practice, provider, _kind = schedule(alice, ScheduleSettings.Mode.REQUEST)
    glaucoma = AppointmentType.objects.create(
        practice=practice,
        name="Glaucoma follow-up",
        minutes=30,
        instructions="Bring your glaucoma eye drops.",
    )
    day = weekday_ahead(practice)
    ada = patient_actor(alice, patient_a)
    asked = appointment_book(
        actor=ada, choice=Choice(glaucoma, provider, at(practice, day, 9)), key="k"
    )
    staff = actor(alice)
    appointment_confirm(actor=staff, appointment=asked, message="Glaucoma pressure check first.")
    moved = appointment_move(
        actor=staff,
        appointment=asked,
        choice=Choice(glaucoma, provider, at(practice, day, 15)),
        message="Moved for your glaucoma scan.",
    )
    appointment_cancel(actor=staff, appointment=moved, message="Glaucoma clinic closed.")
    emails = list(OutboxEmail.objects.all())
    assert sorted(e.kind for e in emails) == [
        "appointment_cancelled",
        "appointment_confirmed",
        "appointment_moved",
        "appointment_requested",
    ]
    for email in emails:
        everything = email.subject + email.body_text + email.body_html + email.attached[0].content
        assert "glaucoma" not in everything.lower(), email.kind
        assert "drops" not in everything.lower(), email.kind


def test_the_email_goes_to_the_authorized_user_who_booked(practice, alice, patient_b):
    practice, provider, kind = schedule(alice)
    guardian = authorized_user_add(
        actor=actor(alice),
        patient=patient_b,
        username="mary",
        password=None,
        display_name="Mary Pascal",
        note="mother",
        email="mary@example.com",
    )
    appointment_book(
        actor=PortalActor(account=guardian.account, patient=patient_b),
        choice=Choice(kind, provider, at(practice, weekday_ahead(practice), 9)),
        key="k",
    )
    assert OutboxEmail.objects.get().to == "mary@example.com"


def test_without_an_address_nothing_is_queued_and_the_change_is_made(practice, alice, patient_b):
    practice, provider, kind = schedule(alice)
    bea = patient_actor(alice, patient_b)  # Blaise has no email address
    booked = appointment_book(
        actor=bea,
        choice=Choice(kind, provider, at(practice, weekday_ahead(practice), 9)),
        key="k",
    )
    appointment_cancel(actor=bea, appointment=booked)
    assert Appointment.objects.get().status == Appointment.Status.CANCELLED
    assert not OutboxEmail.objects.exists()


def test_a_refused_change_queues_no_email(practice, alice, patient_a, patient_b):
    from clinicportal.patients.models import Patient

    Patient.objects.filter(pk=patient_b.pk).update(email="blaise@example.com")
    patient_b.refresh_from_db()
    practice, provider, kind = schedule(alice)
    choice = Choice(kind, provider, at(practice, weekday_ahead(practice), 9))
    appointment_book(actor=patient_actor(alice, patient_a), choice=choice, key="a")
    with pytest.raises(SlotTaken):
        appointment_book(actor=patient_actor(alice, patient_b), choice=choice, key="b")
    assert list(OutboxEmail.objects.values_list("to", flat=True)) == ["ada@example.com"]
    with pytest.raises(ValidationError):
        appointment_book(
            actor=patient_actor(alice, patient_b),
            choice=Choice(kind, provider, choice.starts_at - datetime.timedelta(days=60)),
            key="c",
        )
    assert OutboxEmail.objects.count() == 1
