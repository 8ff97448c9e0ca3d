"""Booking: free times from weekly hours, no double booking, cut-offs, and clocks that change."""

from __future__ import annotations

import datetime
import zoneinfo
from functools import partial
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.selectors import portal_log_for_patient
from clinicportal.core.access import NotFound
from clinicportal.practices.models import Practice
from clinicportal.scheduling.models import Appointment, AppointmentType, DayOff, ScheduleSettings
from clinicportal.scheduling.selectors import schedule_settings_for, slots_for
from clinicportal.scheduling.services import (
    Choice,
    SlotTaken,
    appointment_book,
    appointment_cancel,
    appointment_confirm,
    appointment_move,
)
from clinicportal.scheduling.slots import Block, Busy, free_slots
from tests.conftest import actor
from tests.races import at_once
from tests.schedule_setup import at, patient_actor, provider_add, schedule_on, weekday_ahead

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = datetime.UTC


def times(slots) -> list[str]:
    return [s.starts_at.astimezone(NEW_YORK).strftime("%H:%M") for s in slots]


def test_free_times_follow_the_hours_the_grid_and_the_length():
    day = datetime.date(2026, 12, 7)  # a Monday
    found = free_slots(
        zone=NEW_YORK,
        days=[day],
        minutes=45,
        step=30,
        providers=[1],
        hours={
            1: [
                Block(0, datetime.time(9), datetime.time(11)),
                Block(0, datetime.time(13), datetime.time(14)),
            ]
        },
        days_off=set(),
        busy={
            1: Busy.of(
                [
                    (
                        datetime.datetime(2026, 12, 7, 15, 0, tzinfo=UTC),
                        datetime.datetime(2026, 12, 7, 15, 30, tzinfo=UTC),
                    )
                ]
            )
        },
        earliest=datetime.datetime(2026, 12, 1, tzinfo=UTC),
    )
    # 9:00, 9:30, 10:00 fit before 11:00 (10:30 + 45 would not); 10:00 meets the 10:00–10:30
    # booking (15:00 UTC) and 9:30 overlaps it; after lunch only 13:00 fits before 14:00.
    assert times(found) == ["09:00", "13:00"]


def test_days_off_of_the_provider_and_of_the_practice_offer_nothing():
    monday, tuesday = datetime.date(2026, 12, 7), datetime.date(2026, 12, 8)
    common: dict[str, Any] = {
        "zone": NEW_YORK,
        "days": [monday, tuesday],
        "minutes": 60,
        "step": 60,
        "providers": [1, 2],
        "hours": {
            p: [Block(d, datetime.time(9), datetime.time(10)) for d in (0, 1)] for p in (1, 2)
        },
        "busy": {},
        "earliest": datetime.datetime(2026, 12, 1, tzinfo=UTC),
    }
    found = free_slots(days_off={(1, monday), (None, tuesday)}, **common)
    assert [(s.provider_id, s.starts_at.astimezone(NEW_YORK).date()) for s in found] == [
        (2, monday)
    ]


def test_a_weekly_time_keeps_its_wall_clock_across_the_november_change():
    # US clocks go back on Sunday 2026-11-01: 9:00 is 13:00 UTC before and 14:00 UTC after.
    before, after = datetime.date(2026, 10, 26), datetime.date(2026, 11, 2)
    found = free_slots(
        zone=NEW_YORK,
        days=[before, after],
        minutes=30,
        step=30,
        providers=[1],
        hours={1: [Block(0, datetime.time(9), datetime.time(9, 30))]},
        days_off=set(),
        busy={},
        earliest=datetime.datetime(2026, 10, 1, tzinfo=UTC),
    )
    assert [s.starts_at for s in found] == [
        datetime.datetime(2026, 10, 26, 13, 0, tzinfo=UTC),
        datetime.datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
    ]
    assert times(found) == ["09:00", "09:00"]
    # On the day itself a visit from 1:30 is 30 minutes long, though 1:00–2:00 happens twice.
    sunday = datetime.date(2026, 11, 1)
    night = free_slots(
        zone=NEW_YORK,
        days=[sunday],
        minutes=30,
        step=30,
        providers=[1],
        hours={1: [Block(6, datetime.time(1), datetime.time(2))]},
        days_off=set(),
        busy={},
        earliest=datetime.datetime(2026, 10, 1, tzinfo=UTC),
    )
    assert all(s.ends_at - s.starts_at == datetime.timedelta(minutes=30) for s in night)


def test_the_hour_the_clocks_skip_in_march_is_never_offered():
    sunday = datetime.date(2027, 3, 14)  # 2:00 becomes 3:00
    found = free_slots(
        zone=NEW_YORK,
        days=[sunday],
        minutes=30,
        step=30,
        providers=[1],
        hours={1: [Block(6, datetime.time(1), datetime.time(4))]},
        days_off=set(),
        busy={},
        earliest=datetime.datetime(2027, 3, 1, tzinfo=UTC),
    )
    assert times(found) == ["01:00", "01:30", "03:00", "03:30"]


# Booking -----------------------------------------------------------------------------------


@pytest.fixture
def setup(alice, patient_a):
    provider, kind = schedule_on(alice)
    practice = Practice.objects.get(pk=alice.practice_id)
    return practice, provider, kind, patient_actor(alice, patient_a)


def test_a_patient_books_a_free_time_and_it_is_in_logs(setup):
    practice, provider, kind, ada = setup
    day = weekday_ahead(practice)
    booked = appointment_book(
        actor=ada, choice=Choice(kind, provider, at(practice, day, 9)), key="k1"
    )
    assert booked.status == Appointment.Status.BOOKED
    assert booked.ends_at - booked.starts_at == datetime.timedelta(minutes=30)
    assert booked.booked_by_account == ada.account
    logs = portal_log_for_patient(actor=ada)
    assert logs.filter(action=AuditEvent.Action.APPOINTMENT_BOOKED).count() == 1
    config = schedule_settings_for(practice)
    free = slots_for(
        practice=practice,
        kind=kind,
        providers=[provider],
        days=[day],
        earliest=at(practice, day, 0),
        config=config,
    )
    assert at(practice, day, 9) not in {s.starts_at for s in free}
    assert at(practice, day, 9, 30) in {s.starts_at for s in free}


def test_request_mode_asks_and_the_office_confirms(alice, patient_a):
    provider, kind = schedule_on(alice, mode=ScheduleSettings.Mode.REQUEST)
    practice = Practice.objects.get(pk=alice.practice_id)
    ada = patient_actor(alice, patient_a)
    asked = appointment_book(
        actor=ada, choice=Choice(kind, provider, at(practice, weekday_ahead(practice), 10)), key="k"
    )
    assert asked.status == Appointment.Status.REQUESTED
    confirmed = appointment_confirm(actor=actor(alice), appointment=asked)
    assert confirmed.status == Appointment.Status.BOOKED
    appointment_confirm(actor=actor(alice), appointment=asked)  # twice is once
    assert AuditEvent.objects.filter(action=AuditEvent.Action.APPOINTMENT_CONFIRMED).count() == 1


def test_the_same_form_twice_books_once(setup):
    practice, provider, kind, ada = setup
    choice = Choice(kind, provider, at(practice, weekday_ahead(practice), 9))
    first = appointment_book(actor=ada, choice=choice, key="same")
    again = appointment_book(actor=ada, choice=choice, key="same")
    assert first.pk == again.pk and Appointment.objects.count() == 1


def test_a_time_just_taken_is_refused_kindly(setup, alice, patient_b):
    practice, provider, kind, ada = setup
    choice = Choice(kind, provider, at(practice, weekday_ahead(practice), 9))
    appointment_book(actor=ada, choice=choice, key="a")
    bea = patient_actor(alice, patient_b)
    with pytest.raises(SlotTaken) as raised:
        appointment_book(actor=bea, choice=choice, key="b")
    assert raised.value.messages == ["That time was just taken. Please choose another time."]
    overlapping = Choice(kind, provider, at(practice, weekday_ahead(practice), 9, 15))
    with pytest.raises(ValidationError):  # 9:15 is off the grid anyway
        appointment_book(actor=bea, choice=overlapping, key="c")
    assert Appointment.objects.count() == 1


def _refused(ada, choice, key="bad") -> str:
    with pytest.raises(ValidationError) as raised:
        appointment_book(actor=ada, choice=choice, key=key)
    assert not Appointment.objects.filter(idempotency_key=key).exists()
    return " ".join(raised.value.messages)


def test_times_the_schedule_does_not_offer_are_refused_and_nothing_is_saved(setup, alice):
    practice, provider, kind, ada = setup
    day = weekday_ahead(practice)
    assert "does not see patients at that time" in _refused(
        ada, Choice(kind, provider, at(practice, day, 12))
    )
    assert "does not see patients at that time" in _refused(
        ada, Choice(kind, provider, at(practice, day, 9, 10))
    )
    saturday = weekday_ahead(practice, weekday=5)
    assert "does not see patients" in _refused(
        ada, Choice(kind, provider, at(practice, saturday, 9))
    )
    assert "has passed" in _refused(
        ada, Choice(kind, provider, at(practice, day, 9) - datetime.timedelta(days=30))
    )
    far = weekday_ahead(practice, weeks=10)
    assert "too far ahead" in _refused(ada, Choice(kind, provider, at(practice, far, 9)))
    DayOff.objects.create(practice=practice, provider=provider, date=day)
    assert "does not see patients" in _refused(ada, Choice(kind, provider, at(practice, day, 9)))
    office_only = AppointmentType.objects.create(
        practice=practice, name="Surgery", minutes=60, online=AppointmentType.Online.OFFICE
    )
    next_day = day + datetime.timedelta(days=1)
    assert "cannot be booked online" in _refused(
        ada, Choice(office_only, provider, at(practice, next_day, 9))
    )
    other = provider_add(practice, "Dr. Osei")
    kind.providers.add(provider)
    assert "does not see patients for this visit" in _refused(
        ada, Choice(kind, other, at(practice, next_day, 9))
    )
    assert Appointment.objects.count() == 0


def test_too_soon_to_book_online(setup):
    practice, provider, kind, ada = setup
    ScheduleSettings.objects.filter(practice=practice).update(notice_hours=24 * 30)
    choice = Choice(kind, provider, at(practice, weekday_ahead(practice), 9))
    assert "too soon" in _refused(ada, choice)


def test_schedule_off_answers_not_found(setup):
    practice, provider, kind, ada = setup
    Practice.objects.filter(pk=practice.pk).update(schedule_enabled=False)
    ada.account.practice.refresh_from_db()
    with pytest.raises(NotFound):
        appointment_book(
            actor=ada,
            choice=Choice(kind, provider, at(practice, weekday_ahead(practice), 9)),
            key="x",
        )


def test_cancel_frees_the_time_for_someone_else_and_twice_is_once(setup, alice, patient_b):
    practice, provider, kind, ada = setup
    choice = Choice(kind, provider, at(practice, weekday_ahead(practice), 9))
    booked = appointment_book(actor=ada, choice=choice, key="a")
    appointment_cancel(actor=ada, appointment=booked)
    appointment_cancel(actor=ada, appointment=booked)
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED
    assert booked.cancelled_by_name
    assert AuditEvent.objects.filter(action=AuditEvent.Action.APPOINTMENT_CANCELLED).count() == 1
    other = appointment_book(actor=patient_actor(alice, patient_b), choice=choice, key="b")
    assert other.status == Appointment.Status.BOOKED
    with pytest.raises(ValidationError):  # a cancelled appointment cannot be moved back
        appointment_move(actor=ada, appointment=booked, choice=choice)


def test_patients_cannot_change_after_the_cutoff_but_the_office_can(setup, alice):
    practice, provider, kind, ada = setup
    booked = appointment_book(
        actor=ada, choice=Choice(kind, provider, at(practice, weekday_ahead(practice), 9)), key="a"
    )
    ScheduleSettings.objects.filter(practice=practice).update(cutoff_hours=24 * 30)
    with pytest.raises(ValidationError) as raised:
        appointment_cancel(actor=ada, appointment=booked)
    assert "too late to change this appointment online" in raised.value.messages[0]
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED
    appointment_cancel(actor=actor(alice), appointment=booked, message="Dr. Chen is away.")
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.CANCELLED
    assert booked.office_message == "Dr. Chen is away."


def test_a_move_takes_a_free_time_and_refuses_a_taken_one(setup, alice, patient_b):
    practice, provider, kind, ada = setup
    day = weekday_ahead(practice)
    mine = appointment_book(actor=ada, choice=Choice(kind, provider, at(practice, day, 9)), key="a")
    theirs = appointment_book(
        actor=patient_actor(alice, patient_b),
        choice=Choice(kind, provider, at(practice, day, 10)),
        key="b",
    )
    with pytest.raises(SlotTaken):
        appointment_move(
            actor=ada, appointment=mine, choice=Choice(kind, provider, theirs.starts_at)
        )
    moved = appointment_move(
        actor=ada, appointment=mine, choice=Choice(kind, provider, at(practice, day, 14))
    )
    assert moved.starts_at == at(practice, day, 14) and moved.version == 2
    # The time it left is free again.
    again = appointment_move(
        actor=ada, appointment=moved, choice=Choice(kind, provider, at(practice, day, 9))
    )
    assert again.starts_at == at(practice, day, 9)


def test_the_same_move_twice_moves_once(setup):
    """A double click on "Move", or a retried post: one move, one version, one audit row."""
    practice, provider, kind, ada = setup
    day = weekday_ahead(practice)
    mine = appointment_book(actor=ada, choice=Choice(kind, provider, at(practice, day, 9)), key="a")
    choice = Choice(kind, provider, at(practice, day, 14))
    appointment_move(actor=ada, appointment=mine, choice=choice)
    again = appointment_move(actor=ada, appointment=mine, choice=choice)
    assert again.starts_at == choice.starts_at and again.version == 2
    assert AuditEvent.objects.filter(action=AuditEvent.Action.APPOINTMENT_MOVED).count() == 1


def test_another_patients_appointment_is_not_found(setup, alice, patient_b):
    practice, provider, kind, ada = setup
    booked = appointment_book(
        actor=ada, choice=Choice(kind, provider, at(practice, weekday_ahead(practice), 9)), key="a"
    )
    with pytest.raises(NotFound):
        appointment_cancel(actor=patient_actor(alice, patient_b), appointment=booked)


@pytest.mark.django_db(transaction=True)
def test_two_patients_booking_the_last_time_at_once_get_one_booking(alice, patient_a, patient_b):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    provider, kind = schedule_on(alice)
    practice = Practice.objects.get(pk=alice.practice_id)
    choice = Choice(kind, provider, at(practice, weekday_ahead(practice), 9))
    actors = [patient_actor(alice, patient_a), patient_actor(alice, patient_b)]

    def book(who, key: str) -> str:
        try:
            appointment_book(actor=who, choice=choice, key=key)
        except SlotTaken:
            return "taken"
        return "booked"

    outcomes = at_once(*(partial(book, who, f"k{n}") for n, who in enumerate(actors)))
    assert sorted(outcomes) == ["booked", "taken"]
    assert Appointment.objects.filter(status__in=Appointment.LIVE).count() == 1
