"""SCHEDULE in the portal, when it goes wrong: a clear message where it belongs, nothing saved."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from clinicportal.audit.models import AuditEvent
from clinicportal.scheduling.models import Appointment, AppointmentType, ScheduleSettings
from clinicportal.scheduling.services import Choice, appointment_book, appointment_cancel
from tests.schedule_setup import at, weekday_ahead
from tests.test_portal_schedule import (
    BOOK,
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

TAKEN = "That time was just taken. Please choose another time."


@pytest.fixture
def booking(alice, patient_a, ada_portal):
    return two_doctors(alice)


def field_error(page: str, field: str) -> str:
    found = re.search(rf'id="id_{field}_error">(.*?)</div>', page, re.S)
    assert found, f"no error next to {field}"
    return found.group(1)


def confirmation(client, exam, provider, starts_at) -> dict[str, str]:
    params = {"type": str(exam.public_id), "provider": str(provider.public_id)}
    page = client.get(BOOK, {**params, "at": utc(starts_at)})
    assert page.status_code == 200
    return hidden_fields(text(page))


def test_a_time_taken_meanwhile_brings_back_fresh_times(booking, alice, patient_a, ada_portal):
    chen, _, exam = booking
    day = weekday_ahead(alice.practice)
    nine = at(alice.practice, day, 9)
    form = confirmation(ada_portal, exam, chen, nine)
    appointment_book(actor=other_patient(alice), choice=Choice(exam, chen, nine), key="first")

    refused = ada_portal.post(BOOK, form)
    assert refused.status_code == 409
    page = text(refused)
    assert TAKEN in top_errors(page)
    offered = times_on(page)
    assert utc(nine) not in offered and utc(at(alice.practice, day, 9, 30)) in offered
    assert not Appointment.objects.filter(patient=patient_a).exists()

    # Opening the confirmation of a time taken since says so too, with the fresh times.
    params = {"type": str(exam.public_id), "provider": str(chen.public_id), "at": utc(nine)}
    again = text(ada_portal.get(BOOK, params))
    assert TAKEN in top_errors(again) and utc(nine) not in times_on(again)


def _office_only(kind: AppointmentType, **_: Any) -> None:
    AppointmentType.objects.filter(pk=kind.pk).update(online="office")


def _too_soon(kind: AppointmentType, **_: Any) -> None:
    ScheduleSettings.objects.filter(practice=kind.practice).update(notice_hours=720)


def _too_far(kind: AppointmentType, **_: Any) -> None:
    ScheduleSettings.objects.filter(practice=kind.practice).update(horizon_days=1)


def _not_this_provider(kind: AppointmentType, diaz: Any, **_: Any) -> None:
    kind.providers.set([diaz])


def _at(hour: int, minute: int = 0) -> Callable[..., None]:
    def change(kind: AppointmentType, form: dict[str, str], **_: Any) -> None:
        form["at"] = utc(at(kind.practice, weekday_ahead(kind.practice), hour, minute))

    return change


def _yesterday(kind: AppointmentType, form: dict[str, str], **_: Any) -> None:
    form["at"] = utc(timezone.now() - datetime.timedelta(days=1))


def _mine_then(kind: AppointmentType, diaz: Any, patient: Any, **_: Any) -> None:
    starts_at = at(kind.practice, weekday_ahead(kind.practice), 9)
    Appointment.objects.create(
        practice=kind.practice,
        patient=patient,
        provider=diaz,
        type=kind,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=30),
        status="booked",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_office_only, "This kind of visit cannot be booked online. Please call the office."),
        (_too_soon, "That time is too soon to book online."),
        (_too_far, "That time is too far ahead to book online yet."),
        (_not_this_provider, "Dr. Chen does not see patients for this visit."),
        (_at(12, 15), "Dr. Chen does not see patients at that time."),  # lunch
        (_at(9, 5), "Dr. Chen does not see patients at that time."),  # off the grid
        (_yesterday, "That time has passed. Please choose another."),
        (_mine_then, "There is already an appointment for you at that time."),
    ],
)
def test_a_refused_confirmation_says_why_at_the_top_and_saves_nothing(
    booking, alice, patient_a, ada_portal, change, message
):
    chen, diaz, exam = booking
    form = confirmation(
        ada_portal, exam, chen, at(alice.practice, weekday_ahead(alice.practice), 9)
    )
    change(kind=exam, diaz=diaz, patient=patient_a, form=form)
    before = Appointment.objects.count()
    refused = ada_portal.post(BOOK, form)
    assert refused.status_code == 400
    assert message in top_errors(text(refused))
    assert Appointment.objects.count() == before
    assert not AuditEvent.objects.filter(action__startswith="appointment.").exists()


def test_a_cancelled_appointments_form_posted_again_books_nothing(
    booking, alice, patient_a, ada_portal
):
    chen, _, exam = booking
    nine = at(alice.practice, weekday_ahead(alice.practice), 9)
    form = confirmation(ada_portal, exam, chen, nine)
    ada_portal.post(BOOK, form)
    first = Appointment.objects.get()
    appointment_cancel(actor=ada_actor(ada_portal, patient_a), appointment=first)

    again = ada_portal.post(BOOK, form)  # the browser's Back, then the old button
    assert again.status_code == 400
    assert "This appointment was cancelled." in top_errors(text(again))
    assert Appointment.objects.get().status == Appointment.Status.CANCELLED

    # The time itself is free again, and a new confirmation books it.
    assert book(ada_portal, exam, chen, nine).status_code == 302
    assert Appointment.objects.filter(starts_at=nine, status="booked").count() == 1


def test_pressing_book_twice_books_once(booking, alice, patient_a, ada_portal):
    chen, _, exam = booking
    form = confirmation(
        ada_portal, exam, chen, at(alice.practice, weekday_ahead(alice.practice), 9)
    )
    first = ada_portal.post(BOOK, form)
    second = ada_portal.post(BOOK, form)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Appointment.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.APPOINTMENT_BOOKED).count() == 1


def test_a_choice_not_offered_is_refused_next_to_the_field(booking, alice, ada_portal):
    chen, _, exam = booking
    surgery = AppointmentType.objects.create(
        practice=alice.practice, name="Surgery consult", minutes=60, online="office"
    )
    page = ada_portal.get(BOOK, {"type": str(surgery.public_id)})
    assert page.status_code == 400
    assert "Please choose one of the kinds of visit shown." in field_error(text(page), "type")
    assert "Surgery consult" not in text(page)

    page = ada_portal.get(BOOK, {"type": str(exam.public_id), "provider": "nobody"})
    assert page.status_code == 400
    assert "Please choose one of the providers shown." in field_error(text(page), "provider")

    page = ada_portal.get(
        BOOK, {"type": str(exam.public_id), "provider": str(chen.public_id), "at": "soon"}
    )
    assert page.status_code == 400
    assert "Please choose one of the times shown." in top_errors(text(page))
    assert times_on(text(page))  # with the times to choose from


def test_a_confirmation_naming_nothing_bookable_starts_again(booking, ada_portal):
    refused = ada_portal.post(BOOK, {"type": "x", "provider": "y", "at": "z", "key": "k"})
    assert refused.status_code == 400
    assert "Please choose your visit again." in top_errors(text(refused))
    assert "Eye exam" in text(refused)
    assert not Appointment.objects.exists()


def test_another_patients_appointment_is_not_found(booking, alice, patient_a, ada_portal):
    chen, _, exam = booking
    theirs = appointment_book(
        actor=other_patient(alice),
        choice=Choice(exam, chen, at(alice.practice, weekday_ahead(alice.practice), 9)),
        key="theirs",
    )
    for name in ("appointment", "appointment_cancel", "appointment_move"):
        url = reverse(f"portal:{name}", args=[SLUG, theirs.public_id])
        assert ada_portal.get(url).status_code == 404, name
        if name != "appointment":
            posted = ada_portal.post(url, {"provider": str(chen.public_id), "at": "x"})
            assert posted.status_code == 404, name
    theirs.refresh_from_db()
    assert theirs.status == Appointment.Status.BOOKED and theirs.version == 1
