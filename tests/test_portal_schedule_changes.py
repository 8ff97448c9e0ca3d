"""SCHEDULE in the portal: one appointment's page, cancelling and rescheduling it, the cut-off,
and an authorized user booking for the patient."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.accounts.models import PortalAccount
from clinicportal.audit.models import AuditEvent
from clinicportal.scheduling.models import Appointment, AppointmentType, ScheduleSettings
from clinicportal.scheduling.services import Choice, appointment_book
from tests.conftest import GUARDIAN_PASSWORD, add_guardian, portal_login
from tests.schedule_setup import at, weekday_ahead
from tests.test_portal_schedule import (
    BOOK,
    LIST,
    SLUG,
    ada_actor,
    book,
    hidden_fields,
    other_patient,
    text,
    times_on,
    top_errors,
    two_doctors,
    utc,
)


@pytest.fixture
def booking(alice, patient_a, ada_portal):
    return two_doctors(alice)


@pytest.fixture
def booked(booking, alice, patient_a, ada_portal) -> Appointment:
    """Ada's eye exam with Dr. Chen at 9:00, a week or two ahead."""
    chen, _, exam = booking
    return appointment_book(
        actor=ada_actor(ada_portal, patient_a),
        choice=Choice(exam, chen, at(alice.practice, weekday_ahead(alice.practice), 9)),
        key="booked",
    )


def url(name: str, appointment: Appointment) -> str:
    return reverse(f"portal:{name}", args=[SLUG, appointment.public_id])


def test_the_appointment_page_offers_changes_until_the_cut_off(booked, ada_portal):
    page = text(ada_portal.get(url("appointment", booked)))
    for shown in ("Dr. Chen", "Eye exam", "9:00 AM to 9:30 AM", "Booked", "Bring your glasses."):
        assert shown in page
    assert "You can change or cancel this appointment online until" in page
    assert f'href="{url("appointment_move", booked)}"' in page
    assert f'href="{url("appointment_cancel", booked)}"' in page
    assert "1 Main Street" in page  # where


def test_after_the_cut_off_the_patient_is_asked_to_call(booked, alice, ada_portal):
    ScheduleSettings.objects.filter(practice=alice.practice).update(cutoff_hours=720)
    page = text(ada_portal.get(url("appointment", booked)))
    assert "It is too late to change this appointment online (up to 720 hours before)." in page
    assert "Please call the office at (207) 555-0100." in page
    assert url("appointment_move", booked) not in page
    assert url("appointment_cancel", booked) not in page
    for name in ("appointment_cancel", "appointment_move"):
        answer = ada_portal.get(url(name, booked))
        assert answer.status_code == 302 and answer["Location"] == url("appointment", booked)

    cancel = ada_portal.post(url("appointment_cancel", booked))
    assert cancel.status_code == 400
    assert "It is too late to change this appointment online" in top_errors(text(cancel))
    chen = booked.provider
    move = ada_portal.post(
        url("appointment_move", booked),
        {"provider": str(chen.public_id), "at": utc(booked.starts_at.replace(hour=15))},
    )
    assert move.status_code == 400
    assert "It is too late to change this appointment online" in top_errors(text(move))
    unchanged = Appointment.objects.get()
    assert (unchanged.status, unchanged.starts_at, unchanged.version) == (
        "booked",
        booked.starts_at,
        1,
    )


def test_the_patient_cancels_after_a_confirmation(booked, alice, patient_a, ada_portal):
    ask = text(ada_portal.get(url("appointment_cancel", booked)))
    assert "Cancel this appointment?" in ask and "Dr. Chen" in ask and "Yes, cancel it" in ask
    assert Appointment.objects.get().status == "booked"  # asking changes nothing

    done = ada_portal.post(url("appointment_cancel", booked))
    assert done.status_code == 302 and done["Location"] == LIST
    cancelled = Appointment.objects.get()
    assert cancelled.status == Appointment.Status.CANCELLED
    listed = text(ada_portal.get(LIST))
    assert "Your appointment was cancelled." in listed
    upcoming, earlier = listed.split('class="schedule-earlier"')
    assert str(booked.public_id) not in upcoming and str(booked.public_id) in earlier
    page = text(ada_portal.get(url("appointment", booked)))
    assert "Cancelled" in page and "by Ada Lovelace" in page
    assert url("appointment_cancel", booked) not in page
    assert AuditEvent.objects.filter(action=AuditEvent.Action.APPOINTMENT_CANCELLED).count() == 1
    # The time is free again.
    day = booked.starts_at.astimezone(alice.practice.zone).date()
    params = {"type": str(booked.type.public_id), "provider": str(booked.provider.public_id)}
    assert utc(booked.starts_at) in times_on(text(ada_portal.get(BOOK, {**params, "from": day})))


def test_the_patient_reschedules_the_same_way_as_booking(booking, booked, alice, ada_portal):
    chen, diaz, _ = booking
    move = url("appointment_move", booked)
    day = booked.starts_at.astimezone(alice.practice.zone).date()

    choose = text(ada_portal.get(move))
    assert "Reschedule your appointment" in choose
    current = re.search(rf'<input[^>]*value="{chen.public_id}"[^>]*>', choose)
    assert current and "checked" in current.group(0)  # the provider it is with now

    times = text(ada_portal.get(move, {"provider": str(chen.public_id), "from": day}))
    assert utc(booked.starts_at) not in times_on(times)  # where it is already
    ten = at(alice.practice, day, 10)
    assert utc(ten) in times_on(times)

    confirm = text(ada_portal.get(move, {"provider": str(chen.public_id), "at": utc(ten)}))
    assert "Please check the new time" in confirm and "10:00 AM to 10:30 AM" in confirm
    done = ada_portal.post(move, hidden_fields(confirm))
    assert done.status_code == 302 and done["Location"] == url("appointment", booked)
    moved = Appointment.objects.get()
    assert (moved.starts_at, moved.provider, moved.version) == (ten, chen, 2)
    page = text(ada_portal.get(done["Location"]))
    assert "Your appointment was moved to" in page and "10:00 AM" in page

    # To any provider: Dr. Diaz's time, as when booking.
    eleven = at(alice.practice, day, 11)
    appointment_book(actor=other_patient(alice), choice=Choice(booked.type, chen, eleven), key="o")
    confirm = text(ada_portal.get(move, {"provider": "any", "at": utc(eleven)}))
    assert "Dr. Diaz" in confirm
    ada_portal.post(move, hidden_fields(confirm))
    moved.refresh_from_db()
    assert (moved.starts_at, moved.provider) == (eleven, diaz)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.APPOINTMENT_MOVED).count() == 2


def test_a_time_taken_meanwhile_keeps_the_appointment_and_shows_fresh_times(
    booking, booked, alice, ada_portal
):
    chen, _, exam = booking
    move = url("appointment_move", booked)
    ten = at(alice.practice, booked.starts_at.astimezone(alice.practice.zone).date(), 10)
    confirm = text(ada_portal.get(move, {"provider": str(chen.public_id), "at": utc(ten)}))
    appointment_book(actor=other_patient(alice), choice=Choice(exam, chen, ten), key="other")
    refused = ada_portal.post(move, hidden_fields(confirm))
    assert refused.status_code == 409
    page = text(refused)
    assert "That time was just taken. Please choose another time." in top_errors(page)
    assert utc(ten) not in times_on(page) and times_on(page)
    mine = Appointment.objects.get(pk=booked.pk)
    assert (mine.starts_at, mine.version) == (booked.starts_at, 1)


def test_pressing_move_twice_moves_once(booking, booked, alice, ada_portal):
    chen, _, _ = booking
    move = url("appointment_move", booked)
    ten = at(alice.practice, booked.starts_at.astimezone(alice.practice.zone).date(), 10)
    form = hidden_fields(
        text(ada_portal.get(move, {"provider": str(chen.public_id), "at": utc(ten)}))
    )
    assert ada_portal.post(move, form).status_code == 302
    assert ada_portal.post(move, form).status_code == 302
    moved = Appointment.objects.get()
    assert (moved.starts_at, moved.version) == (ten, 2)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.APPOINTMENT_MOVED).count() == 1


def test_in_request_mode_a_move_asks_the_office(booking, booked, alice, ada_portal):
    chen, _, _ = booking
    ScheduleSettings.objects.filter(practice=alice.practice).update(mode="request")
    move = url("appointment_move", booked)
    ten = at(alice.practice, booked.starts_at.astimezone(alice.practice.zone).date(), 10)
    confirm = text(ada_portal.get(move, {"provider": str(chen.public_id), "at": utc(ten)}))
    assert "The office will confirm the new time" in confirm and "Ask to move it" in confirm
    done = ada_portal.post(move, hidden_fields(confirm))
    assert Appointment.objects.get().status == Appointment.Status.REQUESTED
    assert "The office will confirm it." in text(ada_portal.get(done["Location"]))


def test_a_visit_booked_by_the_office_only_is_cancelled_online_but_not_moved(
    booked, alice, ada_portal
):
    AppointmentType.objects.filter(pk=booked.type_id).update(online="office")
    page = text(ada_portal.get(url("appointment", booked)))
    assert url("appointment_cancel", booked) in page
    assert url("appointment_move", booked) not in page
    assert "This kind of visit cannot be moved online." in page
    assert ada_portal.get(url("appointment_move", booked)).status_code == 302


def test_an_authorized_user_books_for_the_patient(booking, alice, patient_a, ada_portal):
    chen, _, exam = booking
    add_guardian(alice, patient_a)
    mary = Client()
    portal_login(mary, alice.practice, "mary", GUARDIAN_PASSWORD)
    nine = at(alice.practice, weekday_ahead(alice.practice), 9)
    assert book(mary, exam, chen, nine).status_code == 302
    made = Appointment.objects.get()
    assert made.patient == patient_a
    assert made.booked_by_account == PortalAccount.objects.get(username="mary")
    # The patient sees it under SCHEDULE too.
    assert str(made.public_id) in text(ada_portal.get(LIST))
