"""An appointment in the office: its page, and confirm, move and cancel with a message."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.core.context import PortalActor
from clinicportal.messaging.models import Task
from clinicportal.practices.models import StaffMember
from clinicportal.scheduling.models import Appointment, AppointmentType, Provider, ScheduleSettings
from clinicportal.scheduling.services import Choice, appointment_book, appointment_cancel
from tests.conftest import actor
from tests.office_schedule import errors_of, place, text
from tests.schedule_setup import at, patient_actor, provider_add, schedule_on, weekday_ahead

LONG_AGO = datetime.datetime(2020, 1, 6, 14, tzinfo=datetime.UTC)  # a Monday, 9:00 in New York


class Booked:
    """Ada asked online for Monday 9:00 with Dr. Chen (request mode); Dr. Lee sees the visit too."""

    def __init__(self, alice: StaffMember, patient) -> None:
        self.provider, self.kind = schedule_on(alice, mode=ScheduleSettings.Mode.REQUEST)
        self.lee: Provider = provider_add(alice.practice, "Dr. Lee")
        self.practice = alice.practice
        self.monday = weekday_ahead(alice.practice, 0)
        self.ada: PortalActor = patient_actor(alice, patient)
        self.appointment: Appointment = appointment_book(
            actor=self.ada,
            choice=Choice(self.kind, self.provider, at(self.practice, self.monday, 9)),
            key="ada-1",
        )

    def url(self, name: str = "appointment") -> str:
        return reverse(f"office:{name}", args=[self.appointment.public_id])

    def fresh(self) -> Appointment:
        return Appointment.objects.get(pk=self.appointment.pk)

    def slot(self, provider: Provider, hour: int, minute: int = 0) -> str:
        starts_at = at(self.practice, self.monday, hour, minute)
        return f"{provider.public_id}@{int(starts_at.timestamp())}"

    def trail(self, action: str) -> int:
        return AuditEvent.objects.filter(
            object_id=str(self.appointment.public_id), action=action
        ).count()


@pytest.fixture
def booked(alice, patient_a) -> Booked:
    return Booked(alice, patient_a)


def test_the_page_shows_the_patient_the_time_who_booked_it_and_its_history(
    bob_client, booked, patient_a
):
    response = bob_client.get(booked.url())
    assert response.status_code == 200
    html, words = response.content.decode(), text(response)
    assert reverse("office:patient", args=[patient_a.public_id]) in html
    assert f"When {booked.monday:%A %m/%d/%Y}, 9:00 AM–9:30 AM" in words
    assert "Visit Eye exam (30 min)" in words and "Provider Dr. Chen" in words
    assert "Booked by Ada Lovelace, online" in words
    assert 'class="appointment-status status-requested">Requested<' in html
    history = words.split("History", 1)[1]
    assert "Appointment requested · Ada Lovelace" in history
    # The office's open task about it is linked, to sign it off from there.
    task = Task.objects.get(appointment=booked.appointment)
    assert reverse("office:task", args=[task.public_id]) in html
    assert "Confirm appointment" in words and "Cancel appointment" in words


def test_confirm_books_the_request_with_the_message_once(bob_client, bob, booked):
    response = bob_client.post(
        booked.url("appointment_confirm"), {"confirm-message": "Please come ten minutes early."}
    )
    assert response.status_code == 302 and response["Location"] == booked.url()
    fresh = booked.fresh()
    assert fresh.status == Appointment.Status.BOOKED
    assert fresh.office_message == "Please come ten minutes early."
    page = bob_client.get(booked.url())
    assert "Confirmed: Ada Lovelace" in text(page)
    assert "Appointment confirmed · Bob Front Desk" in text(page)
    assert "Confirm appointment" not in text(page)
    again = bob_client.post(booked.url("appointment_confirm"), {"confirm-message": "Twice"})
    assert again.status_code == 302
    assert "already confirmed; nothing changed" in text(bob_client.get(booked.url()))
    assert booked.fresh().office_message == "Please come ten minutes early."
    assert booked.trail(AuditEvent.Action.APPOINTMENT_CONFIRMED) == 1


def test_a_message_too_long_is_said_next_to_it_and_nothing_is_saved(bob_client, booked):
    for name, prefix in (("appointment_confirm", "confirm"), ("appointment_cancel", "cancel")):
        response = bob_client.post(booked.url(name), {f"{prefix}-message": "x" * 501})
        assert response.status_code == 400
        errors = errors_of(response.content.decode(), f"id_{prefix}-message")
        assert errors == ["Ensure this value has at most 500 characters (it has 501)."]
        assert booked.fresh().status == Appointment.Status.REQUESTED
    assert booked.fresh().office_message == ""


def test_a_cancelled_appointment_cannot_be_confirmed(bob_client, bob, booked):
    appointment_cancel(actor=booked.ada, appointment=booked.appointment)
    response = bob_client.post(booked.url("appointment_confirm"), {"confirm-message": "Hi"})
    assert response.status_code == 400
    assert "This appointment was cancelled." in text(response)
    assert booked.fresh().status == Appointment.Status.CANCELLED
    assert booked.trail(AuditEvent.Action.APPOINTMENT_CONFIRMED) == 0


def test_cancel_frees_the_time_with_the_message_and_twice_is_once(bob_client, booked):
    response = bob_client.post(
        booked.url("appointment_cancel"), {"cancel-message": "Dr. Chen is away that day."}
    )
    assert response.status_code == 302
    fresh = booked.fresh()
    assert fresh.status == Appointment.Status.CANCELLED
    assert fresh.cancelled_by_name == "Bob Front Desk"
    assert fresh.office_message == "Dr. Chen is away that day."
    words = text(bob_client.get(booked.url()))
    assert "Cancelled: Ada Lovelace" in words
    assert "This appointment was cancelled; its time is free again." in words
    assert "Cancel appointment" not in words
    bob_client.post(booked.url("appointment_cancel"), {"cancel-message": "Again"})
    assert "already cancelled by Bob Front Desk" in text(bob_client.get(booked.url()))
    assert booked.fresh().office_message == "Dr. Chen is away that day."
    assert booked.trail(AuditEvent.Action.APPOINTMENT_CANCELLED) == 1


def test_move_offers_the_days_free_times_of_everyone_who_sees_the_visit(bob_client, booked):
    place(booked.ada.patient, booked.lee, booked.kind, at(booked.practice, booked.monday, 10))
    response = bob_client.get(booked.url("appointment_move"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Free times on {booked.monday:%A %m/%d/%Y}" in text(response)
    assert booked.slot(booked.provider, 9) in html  # its own time is not taken by itself
    assert booked.slot(booked.lee, 9, 30) in html
    assert booked.slot(booked.lee, 10) not in html  # Dr. Lee is busy then
    assert booked.slot(booked.provider, 12) not in html  # lunch
    only_lee = bob_client.get(
        booked.url("appointment_move"), {"provider": str(booked.lee.public_id)}
    )
    assert booked.slot(booked.provider, 9) not in only_lee.content.decode()
    tuesday = booked.monday + datetime.timedelta(days=1)
    next_day = f"?day={tuesday.isoformat()}"
    assert next_day in html


def test_move_to_another_providers_free_time_confirms_it_with_the_message(bob_client, booked):
    response = bob_client.post(
        booked.url("appointment_move"),
        {"time": booked.slot(booked.lee, 14), "message": "Dr. Lee will see you instead."},
    )
    assert response.status_code == 302 and response["Location"] == booked.url()
    fresh = booked.fresh()
    assert fresh.provider == booked.lee
    assert fresh.starts_at == at(booked.practice, booked.monday, 14)
    assert fresh.status == Appointment.Status.BOOKED
    assert fresh.office_message == "Dr. Lee will see you instead."
    assert fresh.version == 2
    assert "Moved: Ada Lovelace, now" in text(bob_client.get(booked.url()))


def test_a_double_click_on_move_moves_once(bob_client, booked):
    form = bob_client.get(booked.url("appointment_move")).content.decode()
    found = re.search(r'name="submission" value="([^"]+)"', form)
    assert found is not None
    token = found.group(1)
    data = {"time": booked.slot(booked.provider, 15), "message": "", "submission": token}
    first = bob_client.post(booked.url("appointment_move"), data)
    second = bob_client.post(booked.url("appointment_move"), data)
    assert first.status_code == second.status_code == 302
    assert booked.fresh().version == 2
    assert booked.trail(AuditEvent.Action.APPOINTMENT_MOVED) == 1


@pytest.mark.parametrize(
    ("time", "error"),
    [
        ("", "Please choose one of the times shown."),
        ("nonsense", "Please choose one of the times shown."),
        ("taken", "That time was just taken. Please choose another time."),
        (
            "lunch",
            "Dr. Chen does not see patients at that time. Please choose one of the times shown.",
        ),
        ("past", "That time has passed. Please choose another."),
        ("stranger", "Please choose one of the times shown."),
    ],
)
def test_a_time_that_cannot_be_had_is_said_next_to_the_times_and_nothing_changes(
    bob_client, alice, carol, patient_b, booked, time, error
):
    values = {
        "taken": booked.slot(booked.provider, 10),
        "lunch": booked.slot(booked.provider, 12),
        "past": f"{booked.provider.public_id}@{int(LONG_AGO.timestamp())}",
        "stranger": booked.slot(schedule_on(carol)[0], 10),
    }
    place(patient_b, booked.provider, booked.kind, at(booked.practice, booked.monday, 10))
    response = bob_client.post(
        booked.url("appointment_move"), {"time": values.get(time, time), "message": "Moved"}
    )
    assert response.status_code == 400
    assert errors_of(response.content.decode(), "id_time") == [error]
    fresh = booked.fresh()
    assert (fresh.version, fresh.starts_at, fresh.office_message) == (
        1,
        at(booked.practice, booked.monday, 9),
        "",
    )
    assert booked.trail(AuditEvent.Action.APPOINTMENT_MOVED) == 0


def test_the_move_page_of_a_cancelled_appointment_offers_a_new_booking(bob_client, booked):
    appointment_cancel(actor=booked.ada, appointment=booked.appointment)
    response = bob_client.get(booked.url("appointment_move"))
    words = text(response)
    assert "This appointment was cancelled; book a new one instead." in words
    assert "Move appointment" not in words
    posted = bob_client.post(booked.url("appointment_move"), {"time": booked.slot(booked.lee, 14)})
    assert posted.status_code == 400
    assert booked.fresh().status == Appointment.Status.CANCELLED


def test_another_practices_provider_on_the_move_page_is_not_found(bob_client, carol, booked):
    theirs, _ = schedule_on(carol)
    response = bob_client.get(booked.url("appointment_move"), {"provider": str(theirs.public_id)})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("appointment", None),
        ("appointment_move", None),
        ("appointment_confirm", {"confirm-message": "x"}),
        ("appointment_cancel", {"cancel-message": "x"}),
        ("appointment_move", {"time": "x"}),
    ],
)
def test_another_practices_staff_find_no_such_appointment(carol_client, booked, name, data):
    url = booked.url(name)
    response = carol_client.get(url) if data is None else carol_client.post(url, data)
    assert response.status_code == 404
    fresh = booked.fresh()
    assert (fresh.status, fresh.version) == (Appointment.Status.REQUESTED, 1)


def test_the_actions_refuse_a_get(bob_client, booked):
    for name in ("appointment_confirm", "appointment_cancel"):
        assert bob_client.get(booked.url(name)).status_code == 405
    assert booked.fresh().status == Appointment.Status.REQUESTED


def test_an_office_only_visit_booked_by_the_office_says_who(bob_client, alice, bob, patient_a):
    from clinicportal.scheduling.services import appointment_create

    provider, _ = schedule_on(alice)
    kind = AppointmentType.objects.create(
        practice=alice.practice, name="Surgery consult", minutes=60, online="office"
    )
    made = appointment_create(
        actor=actor(bob),
        patient=patient_a,
        choice=Choice(kind, provider, at(alice.practice, weekday_ahead(alice.practice, 1), 13)),
        key="office-1",
    )
    words = text(bob_client.get(reverse("office:appointment", args=[made.public_id])))
    assert "Booked by Bob Front Desk, at the office" in words
    assert "Appointment booked · Bob Front Desk" in words
    assert "Confirm appointment" not in words  # booked at once


def test_opening_the_appointment_is_in_the_audit_trail_but_not_its_history(bob_client, booked):
    bob_client.get(booked.url())
    bob_client.get(booked.url())
    assert booked.trail(AuditEvent.Action.APPOINTMENT_VIEWED) == 2
    words = text(bob_client.get(booked.url()))
    assert "opened by staff" not in words.split("History", 1)[1]
