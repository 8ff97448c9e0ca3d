"""The office books for a patient (appointment_create): at once, in hours, once per form."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from clinicportal.core.access import NotFound
from clinicportal.scheduling.models import Appointment, AppointmentType, ScheduleSettings
from clinicportal.scheduling.services import Choice, SlotTaken, appointment_create
from tests.conftest import actor
from tests.office_schedule import Desk
from tests.schedule_setup import at, weekday_ahead


@pytest.fixture
def desk(alice, patient_a) -> Desk:
    return Desk(alice, patient_a)


def test_the_office_books_past_the_online_notice_and_horizon_but_in_hours(alice, bob, desk):
    ScheduleSettings.objects.filter(practice=desk.practice).update(
        notice_hours=720, horizon_days=1, mode=ScheduleSettings.Mode.OFF
    )
    far = weekday_ahead(desk.practice, 1, weeks=10)
    made = appointment_create(
        actor=actor(bob),
        patient=desk.patient,
        choice=Choice(desk.exam, desk.chen, at(desk.practice, far, 9)),
        key="far",
    )
    assert made.status == Appointment.Status.BOOKED
    with pytest.raises(ValidationError) as refused:
        appointment_create(
            actor=actor(bob),
            patient=desk.patient,
            choice=Choice(desk.exam, desk.chen, at(desk.practice, far, 7)),
            key="early",
        )
    assert "does not see patients at that time" in str(refused.value)
    assert Appointment.objects.count() == 1


def test_the_same_key_books_once_and_only_for_whoever_used_it(alice, bob, desk, patient_b):
    choice = Choice(desk.exam, desk.chen, at(desk.practice, desk.tuesday, 9))
    first = appointment_create(actor=actor(bob), patient=desk.patient, choice=choice, key="k1")
    again = appointment_create(actor=actor(bob), patient=desk.patient, choice=choice, key="k1")
    assert again.pk == first.pk
    with pytest.raises(ValidationError):
        appointment_create(actor=actor(alice), patient=desk.patient, choice=choice, key="k1")
    with pytest.raises(ValidationError):
        appointment_create(actor=actor(bob), patient=patient_b, choice=choice, key="k1")
    with pytest.raises(SlotTaken):
        appointment_create(actor=actor(bob), patient=patient_b, choice=choice, key="k2")
    assert Appointment.objects.count() == 1


def test_a_visit_no_longer_offered_or_another_practices_patient_is_refused(
    bob, carol, desk, patient_c
):
    choice = Choice(desk.exam, desk.chen, at(desk.practice, desk.tuesday, 9))
    with pytest.raises(NotFound):
        appointment_create(actor=actor(bob), patient=patient_c, choice=choice, key="c")
    AppointmentType.objects.filter(pk=desk.exam.pk).update(active=False)
    desk.exam.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        appointment_create(actor=actor(bob), patient=desk.patient, choice=choice, key="d")
    assert "no longer offered" in str(refused.value)
    assert not Appointment.objects.exists()


def test_the_office_hears_about_the_patients_other_appointment_in_its_own_words(bob, desk):
    from clinicportal.scheduling.services import appointment_move

    staff = actor(bob)
    at_nine = Choice(desk.exam, desk.chen, at(desk.practice, desk.tuesday, 9))
    first = appointment_create(actor=staff, patient=desk.patient, choice=at_nine, key="a")
    with_lee = Choice(desk.exam, desk.lee, at(desk.practice, desk.tuesday, 9))
    with pytest.raises(ValidationError) as refused:
        appointment_create(actor=staff, patient=desk.patient, choice=with_lee, key="b")
    said = ["The patient already has an appointment at that time."]
    assert refused.value.message_dict == {"starts_at": said}
    second = appointment_create(
        actor=staff,
        patient=desk.patient,
        choice=Choice(desk.exam, desk.lee, at(desk.practice, desk.tuesday, 10)),
        key="c",
    )
    with pytest.raises(ValidationError) as moving:
        appointment_move(actor=staff, appointment=second, choice=with_lee)
    assert moving.value.message_dict == {"starts_at": said}
    assert Appointment.objects.count() == 2 and first.pk
