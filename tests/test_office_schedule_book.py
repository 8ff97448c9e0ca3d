"""The office books an appointment for a patient: from the patient's page, a day at a time."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.messaging.models import Task
from clinicportal.practices.models import Practice
from clinicportal.scheduling.models import Appointment
from tests.office_schedule import Desk, errors_of, place, text
from tests.schedule_setup import at, schedule_on


@pytest.fixture
def desk(alice, patient_a) -> Desk:
    return Desk(alice, patient_a)


def key_of(html: str) -> str:
    found = re.search(r'name="key" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_patient_page_links_to_booking_and_lists_what_is_coming(bob_client, desk, patient_a):
    page = bob_client.get(reverse("office:patient", args=[patient_a.public_id]))
    assert desk.url in page.content.decode()
    assert "No upcoming appointments for Ada." in text(page)
    booked = place(patient_a, desk.chen, desk.exam, at(desk.practice, desk.tuesday, 9))
    page = bob_client.get(reverse("office:patient", args=[patient_a.public_id]))
    assert reverse("office:appointment", args=[booked.public_id]) in page.content.decode()
    assert f"{desk.tuesday:%a %m/%d/%Y} 9:00 AM , Eye exam with Dr. Chen" in text(page)


def test_with_schedule_off_the_patient_page_has_no_appointments(bob_client, desk, patient_a):
    Practice.objects.filter(pk=desk.practice.pk).update(schedule_enabled=False)
    page = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert desk.url not in page and 'id="appointments"' not in page


def test_the_office_may_choose_visits_patients_cannot_book_online(bob_client, desk):
    response = bob_client.get(desk.url)
    assert response.status_code == 200
    words = text(response)
    assert "Eye exam (30 min)" in words
    assert "Surgery consult (60 min), office only" in words
    assert "Free times" not in words  # nothing chosen yet


def test_a_days_free_times_are_those_of_everyone_who_sees_the_visit(bob_client, desk):
    place(desk.patient, desk.chen, desk.exam, at(desk.practice, desk.tuesday, 9))
    html = bob_client.get(desk.url, desk.find(desk.exam)).content.decode()
    assert desk.slot(desk.chen, 9) not in html  # taken
    assert desk.slot(desk.chen, 9, 30) in html and desk.slot(desk.lee, 9) in html
    consult = bob_client.get(desk.url, desk.find(desk.consult)).content.decode()
    assert desk.slot(desk.lee, 9) in consult and f"{desk.chen.public_id}@" not in consult
    assert desk.slot(desk.lee, 11, 30) not in consult  # an hour does not fit before lunch
    monday = desk.tuesday - datetime.timedelta(days=1)
    wednesday = desk.tuesday + datetime.timedelta(days=1)
    assert f"day={monday.isoformat()}" in html and f"day={wednesday.isoformat()}" in html


def test_the_office_books_a_free_time_at_once_and_a_double_click_books_once(bob_client, bob, desk):
    page = bob_client.get(desk.url, desk.find(desk.consult)).content.decode()
    data = {"time": desk.slot(desk.lee, 13), "key": key_of(page)}
    first = bob_client.post(desk.query(desk.consult), data)
    second = bob_client.post(desk.query(desk.consult), data)
    made = Appointment.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == reverse("office:appointment", args=[made.public_id])
    assert made.status == Appointment.Status.BOOKED
    assert (made.type, made.provider, made.patient) == (desk.consult, desk.lee, desk.patient)
    assert made.starts_at == at(desk.practice, desk.tuesday, 13)
    assert made.ends_at == at(desk.practice, desk.tuesday, 14)
    assert made.booked_by_user == bob.user and made.booked_by_account is None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.APPOINTMENT_BOOKED).count() == 1
    assert not Task.objects.exists()  # the office made it: nothing for the office to do
    words = text(bob_client.get(first["Location"]))
    assert f"Booked: Ada Lovelace, {desk.tuesday:%A %m/%d/%Y}, 1:00 PM with Dr. Lee." in words


@pytest.mark.parametrize(
    ("time", "error"),
    [
        ("", "Please choose one of the times shown."),
        ("taken", "That time was just taken. Please choose another time."),
        ("overlap", "The patient already has an appointment at that time."),
        (
            "lunch",
            "Dr. Chen does not see patients at that time. Please choose one of the times shown.",
        ),
        ("past", "That time has passed. Please choose another."),
        ("lee-only", "Please choose one of the times shown."),
    ],
)
def test_a_time_that_cannot_be_had_is_said_next_to_the_times_and_nothing_is_saved(
    bob_client, desk, patient_b, time, error
):
    place(patient_b, desk.chen, desk.exam, at(desk.practice, desk.tuesday, 10))
    place(desk.patient, desk.lee, desk.exam, at(desk.practice, desk.tuesday, 11))
    before = Appointment.objects.count()
    yesterday = datetime.datetime.now(desk.practice.zone).date() - datetime.timedelta(days=1)
    values = {
        "taken": desk.slot(desk.chen, 10),
        "overlap": desk.slot(desk.chen, 11),
        "lunch": desk.slot(desk.chen, 12),
        "past": desk.slot(desk.chen, 10, day=yesterday),
        "lee-only": desk.slot(desk.chen, 14),  # the choice of Dr. Lee only offers his times
    }
    more = {"provider": str(desk.lee.public_id)} if time == "lee-only" else {}
    response = bob_client.post(
        desk.query(desk.exam, **more), {"time": values.get(time, time), "key": "k-" + time}
    )
    assert response.status_code == 400
    assert errors_of(response.content.decode(), "id_time") == [error]
    assert Appointment.objects.count() == before


def test_a_post_without_a_visit_chosen_saves_nothing(bob_client, desk):
    response = bob_client.post(desk.url, {"time": desk.slot(desk.chen, 9), "key": "k"})
    assert response.status_code == 400
    assert "Please choose the visit first." in text(response)
    assert not Appointment.objects.exists()


def test_choices_that_are_not_the_practices_are_said_next_to_their_fields(bob_client, carol, desk):
    _, theirs = schedule_on(carol)
    response = bob_client.get(desk.url, desk.find(theirs))
    assert response.status_code == 400
    assert errors_of(response.content.decode(), "id_type") == [
        "Please choose one of the visits listed."
    ]
    chen_consult = bob_client.get(
        desk.url, desk.find(desk.consult, provider=str(desk.chen.public_id))
    )
    assert chen_consult.status_code == 400
    assert errors_of(chen_consult.content.decode(), "id_provider") == [
        "Dr. Chen does not see patients for this visit."
    ]
    posted = bob_client.post(desk.query(theirs), {"time": desk.slot(desk.chen, 9), "key": "theirs"})
    assert posted.status_code == 400
    assert not Appointment.objects.exists()


def test_another_practices_patient_is_not_found(bob_client, desk, patient_c):
    url = reverse("office:appointment_new", args=[patient_c.public_id])
    assert bob_client.get(url, desk.find(desk.exam)).status_code == 404
    posted = bob_client.post(
        f"{url}?type={desk.exam.public_id}", {"time": desk.slot(desk.chen, 9), "key": "c"}
    )
    assert posted.status_code == 404
    assert not Appointment.objects.exists()
