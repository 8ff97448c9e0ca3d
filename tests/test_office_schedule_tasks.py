"""Appointments patients book, ask for, move or cancel online are tasks beside web messages."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinicportal.messaging import services as messaging
from clinicportal.messaging.models import Category, Task
from clinicportal.practices.models import Practice
from clinicportal.scheduling.models import Appointment, ScheduleSettings
from clinicportal.scheduling.services import (
    Choice,
    appointment_book,
    appointment_cancel,
    appointment_confirm,
    appointment_create,
    appointment_move,
)
from tests.conftest import actor
from tests.office_schedule import text
from tests.schedule_setup import at, patient_actor, schedule_on, weekday_ahead
from tests.test_office_task_list import rows_of

TASKS = reverse("office:tasks")


class Online:
    """SCHEDULE on with Dr. Chen; Ada signed in to the portal."""

    def __init__(self, alice, patient, mode: str) -> None:
        self.provider, self.kind = schedule_on(alice, mode=mode)
        self.practice = alice.practice
        self.monday = weekday_ahead(alice.practice, 0)
        self.ada = patient_actor(alice, patient)

    def choice(self, hour: int, day: datetime.date | None = None) -> Choice:
        return Choice(self.kind, self.provider, at(self.practice, day or self.monday, hour))

    def book(self, hour: int = 9, key: str = "k1") -> Appointment:
        return appointment_book(actor=self.ada, choice=self.choice(hour), key=key)


@pytest.fixture
def online(alice, patient_a) -> Online:
    return Online(alice, patient_a, ScheduleSettings.Mode.BOOK)


@pytest.fixture
def requests(alice, patient_a) -> Online:
    return Online(alice, patient_a, ScheduleSettings.Mode.REQUEST)


def test_a_booking_online_makes_one_task_and_a_double_click_still_one(online):
    first = online.book(key="same")
    again = online.book(key="same")
    assert again.pk == first.pk
    task = Task.objects.get()
    assert task.kind == Task.Kind.APPOINTMENT and task.appointment == first
    assert task.happened == Task.Happened.BOOKED and task.message is None
    assert task.category == Category.APPOINTMENT and task.patient == online.ada.patient
    assert task.is_open


def test_a_request_is_a_task_that_says_so(requests):
    requests.book()
    assert Task.objects.get().get_happened_display() == "Appointment requested"


def test_changes_by_the_patient_bring_the_open_task_up_to_date(online):
    booked = online.book()
    task = Task.objects.get()
    Task.objects.filter(pk=task.pk).update(created_at=timezone.now() - datetime.timedelta(days=1))
    appointment_move(actor=online.ada, appointment=booked, choice=online.choice(10))
    moved = Task.objects.get()
    assert moved.pk == task.pk and moved.happened == Task.Happened.MOVED
    assert moved.created_at > timezone.now() - datetime.timedelta(minutes=1)  # received anew


def test_after_a_sign_off_the_patients_next_change_is_a_new_task(bob, online):
    booked = online.book()
    messaging.task_sign_off(actor=actor(bob), task=Task.objects.get())
    appointment_cancel(actor=online.ada, appointment=booked)
    latest = Task.objects.get(signed_off_at__isnull=True)
    assert latest.happened == Task.Happened.CANCELLED
    assert latest.get_happened_display() == "Appointment cancelled by the patient"
    assert Task.objects.count() == 2


def test_what_the_office_does_makes_no_task(alice, bob, requests, patient_b):
    asked = requests.book()
    Task.objects.all().delete()
    staff = actor(bob)
    appointment_confirm(actor=staff, appointment=asked)
    appointment_move(actor=staff, appointment=asked, choice=requests.choice(11))
    appointment_cancel(actor=staff, appointment=asked)
    appointment_create(actor=staff, patient=patient_b, choice=requests.choice(14), key="desk")
    assert not Task.objects.exists()


def test_the_list_says_what_happened_when_and_to_which_visit(bob_client, requests, patient_a):
    asked = requests.book()
    response = bob_client.get(TASKS)
    words = text(response)
    when = f"{requests.monday:%m/%d/%Y} 9:00 AM"
    assert f"Appointment requested: {when} Eye exam with Dr. Chen; now requested" in words
    html = response.content.decode()
    task = Task.objects.get(appointment=asked)
    assert reverse("office:task", args=[task.public_id]) in html
    assert reverse("office:patient", args=[patient_a.public_id]) in html
    assert "Lovelace, Ada" in words and "Appointment" in words
    only = bob_client.get(TASKS, {"category": "appointment"})
    assert rows_of(only) == [task.pk]
    assert rows_of(bob_client.get(TASKS, {"category": "refill"})) == []


def test_the_list_costs_the_same_queries_for_1_appointment_task_as_for_6(bob_client, online):
    online.book(9, "first")
    bob_client.get(TASKS)  # the first page after sign-in stamps the session's use
    with CaptureQueriesContext(connection) as one:
        bob_client.get(TASKS)
    for hour in (10, 11, 13, 14, 15):
        online.book(hour, f"k{hour}")
    with CaptureQueriesContext(connection) as six:
        response = bob_client.get(TASKS)
    assert len(rows_of(response)) == 6
    assert len(six.captured_queries) == len(one.captured_queries)


def test_the_task_page_shows_the_appointment_now_and_links_to_it(bob_client, requests):
    asked = requests.book()
    task = Task.objects.get()
    response = bob_client.get(reverse("office:task", args=[task.public_id]))
    assert response.status_code == 200
    words = text(response)
    assert "Appointment requested" in words
    assert f"When {requests.monday:%A %m/%d/%Y}, 9:00 AM–9:30 AM" in words
    assert "Visit Eye exam with Dr. Chen" in words
    assert "Appointment status Requested" in words
    assert "Booked online by Ada Lovelace" in words
    html = response.content.decode()
    assert reverse("office:appointment", args=[asked.public_id]) in html
    assert "Open the appointment to confirm or move it" in words
    assert "Sign off</button>" in html


def test_with_schedule_off_the_task_page_still_shows_it_without_the_link(
    bob_client, requests, practice_x
):
    asked = requests.book()
    Practice.objects.filter(pk=practice_x.pk).update(schedule_enabled=False)
    task = Task.objects.get()
    html = bob_client.get(reverse("office:task", args=[task.public_id])).content.decode()
    assert "Appointment requested" in html
    assert reverse("office:appointment", args=[asked.public_id]) not in html


def test_signing_off_works_as_for_a_message_and_twice_is_once(bob_client, alice_client, requests):
    requests.book()
    task = Task.objects.get()
    url = reverse("office:task_sign_off", args=[task.public_id])
    first = bob_client.post(url, follow=True)
    assert (
        f"Signed off: Ada Lovelace, “Appointment requested: {requests.monday:%m/%d/%Y} 9:00 AM”."
        in text(first)
    )
    second = alice_client.post(url, follow=True)
    assert "Already signed off by Bob Front Desk" in text(second)
    task.refresh_from_db()
    assert not task.is_open and task.signed_off_by_name == "Bob Front Desk"
    # The appointment itself is as it was: signing off is not confirming.
    assert Appointment.objects.get().status == Appointment.Status.REQUESTED


def test_the_appointment_page_links_its_open_task(bob_client, bob, requests):
    asked = requests.book()
    task = Task.objects.get()
    html = bob_client.get(reverse("office:appointment", args=[asked.public_id])).content.decode()
    assert reverse("office:task", args=[task.public_id]) in html
    messaging.task_sign_off(actor=actor(bob), task=task)
    html = bob_client.get(reverse("office:appointment", args=[asked.public_id])).content.decode()
    assert reverse("office:task", args=[task.public_id]) not in html


def test_another_practices_staff_find_no_such_task(carol_client, requests):
    requests.book()
    task = Task.objects.get()
    assert carol_client.get(reverse("office:task", args=[task.public_id])).status_code == 404
    assert (
        carol_client.post(reverse("office:task_sign_off", args=[task.public_id])).status_code == 404
    )
    task.refresh_from_db()
    assert task.is_open


def test_the_database_refuses_a_task_about_nothing_or_about_two_things(online, patient_a):
    booked = online.book()
    common = {
        "practice": patient_a.practice,
        "patient": patient_a,
        "category": Category.APPOINTMENT,
        "created_at": timezone.now(),
    }
    for wrong in (
        {"kind": Task.Kind.APPOINTMENT, "happened": Task.Happened.BOOKED},  # no appointment
        {"kind": Task.Kind.APPOINTMENT, "appointment": booked},  # nothing happened
        {"kind": Task.Kind.WEB_MESSAGE, "appointment": booked, "happened": "booked"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Task.objects.create(**common, **wrong)
