"""Reminders: queued with the booking, sent by the real worker once, and never for a time that
moved or was cancelled since."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clinicportal.notifications.models import OutboxEmail
from clinicportal.practices.models import Practice
from clinicportal.scheduling.models import Appointment, AppointmentType, ScheduleSettings
from clinicportal.scheduling.reminders import appointment_reminder_send
from clinicportal.scheduling.services import (
    Choice,
    appointment_book,
    appointment_cancel,
    appointment_confirm,
    appointment_move,
)
from clinicportal.scheduling.tasks import send_appointment_reminder
from tests.conftest import actor, run_worker
from tests.races import at_once
from tests.schedule_setup import at, patient_actor, schedule_on, weekday_ahead

pytestmark = pytest.mark.django_db(transaction=True)
TASK = "clinicportal.scheduling.tasks.send_appointment_reminder"


@pytest.fixture
def setup(alice, patient_a):
    provider, kind = schedule_on(alice)
    practice = Practice.objects.get(pk=alice.practice_id)
    return practice, provider, kind, patient_actor(alice, patient_a)


def book(setup, hour: int = 9, kind: AppointmentType | None = None) -> Appointment:
    practice, provider, default_kind, ada = setup
    chosen = kind or default_kind
    return appointment_book(
        actor=ada,
        choice=Choice(chosen, provider, at(practice, weekday_ahead(practice), hour)),
        key=f"k{hour}",
    )


def reminder_tasks():
    return DBTaskResult.objects.filter(task_path=TASK)


def make_due() -> None:
    """The reminders' time has come (their appointments are still a week away)."""
    reminder_tasks().update(run_after=timezone.now())


def reminders():
    return OutboxEmail.objects.filter(kind="appointment_reminder")


def test_a_booking_queues_its_reminder_for_the_set_hours_before(setup):
    booked = book(setup)
    (task,) = reminder_tasks()
    assert task.run_after == booked.starts_at - datetime.timedelta(hours=24)
    assert task.args_kwargs == {"args": [booked.pk, 1], "kwargs": {}}


def test_the_worker_sends_the_due_reminder_once(setup, email_settings, smtp_server):
    booked = book(setup)
    run_worker()  # the booking's email; the reminder is not due yet
    assert [m["Subject"] for m in smtp_server.messages] == [
        "Your appointment at Clinic X Eye Care is booked"
    ]
    make_due()
    run_worker()
    (reminder,) = reminders()
    assert reminder.to == "ada@example.com" and reminder.status == "sent"
    assert reminder.subject.startswith("Reminder: your appointment at Clinic X Eye Care, ")
    assert reminder.attachments == []
    assert "9:00 AM" in reminder.body_text and "Dr. Chen" in reminder.body_text
    booked.refresh_from_db()
    assert booked.reminder_sent_at is not None
    assert len(smtp_server.messages) == 2
    assert smtp_server.messages[1]["Subject"] == reminder.subject

    # The same task taken up again (its worker was killed before it could record the result),
    # or run by hand: still one reminder.
    reminder_tasks().update(status="READY")
    run_worker()
    assert send_appointment_reminder.call(booked.pk, booked.version) is False
    assert reminders().count() == 1 and len(smtp_server.messages) == 2


def test_after_a_move_the_old_reminder_does_nothing_and_the_new_one_sends(setup):
    practice, provider, kind, ada = setup
    booked = book(setup)
    moved = appointment_move(
        actor=ada,
        appointment=booked,
        choice=Choice(kind, provider, at(practice, weekday_ahead(practice), 14)),
    )
    assert moved.version == 2
    tasks = reminder_tasks().order_by("enqueued_at")
    assert [t.args_kwargs["args"] for t in tasks] == [[booked.pk, 1], [booked.pk, 2]]
    assert tasks[1].run_after == moved.starts_at - datetime.timedelta(hours=24)
    make_due()
    run_worker()
    (reminder,) = reminders()
    assert "2:00 PM" in reminder.body_text
    results = {t.args_kwargs["args"][1]: t.return_value for t in reminder_tasks()}
    assert results == {1: False, 2: True}


def test_a_cancelled_appointment_gets_no_reminder(setup, alice):
    booked = book(setup)
    appointment_cancel(actor=actor(alice), appointment=booked)
    make_due()
    run_worker()
    assert not reminders().exists()
    assert reminder_tasks().get().return_value is False


def test_a_time_already_inside_the_window_gets_no_reminder(setup):
    practice = setup[0]
    ScheduleSettings.objects.filter(practice=practice).update(reminder_hours=24 * 14)
    book(setup)  # a week ahead: its reminder's time, two weeks before, has passed
    assert not reminder_tasks().exists()
    assert OutboxEmail.objects.get().kind == "appointment_booked"  # it says the time


def test_no_reminder_when_the_practice_sends_none(setup):
    ScheduleSettings.objects.filter(practice=setup[0]).update(reminder_hours=0)
    book(setup)
    assert not reminder_tasks().exists()


def test_reminders_turned_off_after_booking_are_not_sent(setup):
    book(setup)
    ScheduleSettings.objects.filter(practice=setup[0]).update(reminder_hours=0)
    make_due()
    run_worker()
    assert not reminders().exists()


def test_a_request_is_reminded_once_the_office_confirms_it(alice, patient_a):
    provider, kind = schedule_on(alice, mode=ScheduleSettings.Mode.REQUEST)
    practice = Practice.objects.get(pk=alice.practice_id)
    asked = appointment_book(
        actor=patient_actor(alice, patient_a),
        choice=Choice(kind, provider, at(practice, weekday_ahead(practice), 10)),
        key="k",
    )
    assert not reminder_tasks().exists()
    appointment_confirm(actor=actor(alice), appointment=asked)
    (task,) = reminder_tasks()
    assert task.args_kwargs["args"] == [asked.pk, 2]  # the confirmed version
    make_due()
    run_worker()
    assert reminders().count() == 1


def test_a_reminder_names_no_kind_of_visit(setup):
    practice = setup[0]
    glaucoma = AppointmentType.objects.create(
        practice=practice, name="Glaucoma follow-up", minutes=30, instructions="Eye drops."
    )
    book(setup, kind=glaucoma)
    make_due()
    run_worker()
    (reminder,) = reminders()
    everything = (reminder.subject + reminder.body_text + reminder.body_html).lower()
    assert "glaucoma" not in everything and "drops" not in everything


def test_no_reminder_for_an_appointment_already_begun(setup):
    booked = book(setup)
    Appointment.objects.filter(pk=booked.pk).update(
        starts_at=timezone.now() - datetime.timedelta(minutes=5), ends_at=timezone.now()
    )
    assert appointment_reminder_send(appointment_id=booked.pk, version=1) is None


def test_two_runs_at_once_send_one_reminder(setup):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    booked = book(setup)

    def run() -> bool:
        return appointment_reminder_send(appointment_id=booked.pk, version=1) is not None

    assert sorted(at_once(run, run)) == [False, True]
    assert reminders().count() == 1
