"""Admin → Schedule's services: settings, providers and their week, days off (appointment types
are in test_schedule_setup_types.py).

Every refusal names the field it is about and writes nothing, not even an audit row.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from clinicportal.audit.models import AuditEvent
from clinicportal.core.access import NotFound
from clinicportal.scheduling.models import (
    Appointment,
    AppointmentType,
    DayOff,
    Provider,
    ScheduleSettings,
    WorkingHours,
)
from clinicportal.scheduling.selectors import providers_for, schedule_settings_for, slots_for
from clinicportal.scheduling.services import Choice, appointment_book
from clinicportal.scheduling.setup import (
    appointment_type_create,
    day_off_add,
    day_off_remove,
    provider_create,
    provider_remove,
    provider_update,
    schedule_settings_save,
)
from clinicportal.scheduling.setup_selectors import practice_today
from clinicportal.scheduling.slots import Block
from tests.conftest import actor
from tests.races import at_once
from tests.schedule_setup import (
    WEEKDAY_HOURS,
    at,
    audited,
    patient_actor,
    refused,
    schedule_on,
    weekday_ahead,
)

T = datetime.time

SETTINGS: dict[str, Any] = {
    "mode": "book",
    "cutoff_hours": 24,
    "notice_hours": 2,
    "horizon_days": 42,
    "reminder_hours": 24,
    "slot_minutes": 15,
}


# Settings ------------------------------------------------------------------------------------


def test_settings_are_saved_and_audited(alice):
    config = schedule_settings_save(actor=actor(alice), **{**SETTINGS, "mode": "request"})
    assert schedule_settings_for(alice.practice) == config
    assert (config.mode, config.cutoff_hours, config.slot_minutes) == ("request", 24, 15)
    schedule_settings_save(actor=actor(alice), **{**SETTINGS, "slot_minutes": 30})
    assert ScheduleSettings.objects.get().slot_minutes == 30  # one row, changed
    event = AuditEvent.objects.filter(action="schedule_settings.changed").latest("id")
    assert event.actor_user == alice.user and event.object_label.startswith("Book")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"mode": "sometimes"}, "mode", "Please choose how patients book online."),
        ({"cutoff_hours": 721}, "cutoff_hours", "Please enter a number from 0 to 720."),
        ({"notice_hours": -1}, "notice_hours", "Please enter a number from 0 to 720."),
        ({"horizon_days": 0}, "horizon_days", "Please enter a number from 1 to 365."),
        ({"reminder_hours": 400}, "reminder_hours", "Please enter a number from 0 to 336."),
        ({"slot_minutes": 7}, "slot_minutes", "in steps of 5"),
        ({"slot_minutes": 125}, "slot_minutes", "from 5 to 120"),
        ({"notice_hours": 48, "horizon_days": 2}, "notice_hours", "Patients could book nothing"),
    ],
)
def test_bad_settings_are_refused_by_field_and_save_nothing(alice, change, field, message):
    errors = refused(schedule_settings_save, actor=actor(alice), **{**SETTINGS, **change})
    assert list(errors) == [field] and message in errors[field][0]
    assert not ScheduleSettings.objects.exists()
    assert audited("schedule_settings.changed") == 0


def test_only_admins_change_the_schedule(bob):
    staff = actor(bob)
    with pytest.raises(PermissionDenied):
        schedule_settings_save(actor=staff, **SETTINGS)
    with pytest.raises(PermissionDenied):
        provider_create(actor=staff, name="Dr. Chen")
    with pytest.raises(PermissionDenied):
        appointment_type_create(actor=staff, name="Exam", minutes=30, online="patients")
    with pytest.raises(PermissionDenied):
        day_off_add(actor=staff, provider=None, date=practice_today(bob.practice))
    assert not (Provider.objects.exists() or AppointmentType.objects.exists())
    assert not (DayOff.objects.exists() or ScheduleSettings.objects.exists())


# Providers -----------------------------------------------------------------------------------


def test_a_provider_is_added_with_a_week_that_has_a_lunch_break(alice):
    provider = provider_create(actor=actor(alice), name="  Dr.   Ana Chen ", hours=WEEKDAY_HOURS)
    assert provider.name == "Dr. Ana Chen" and provider.active
    monday = provider.hours.filter(weekday=0).values_list("starts", "ends")
    assert list(monday) == [(T(9), T(12)), (T(13), T(17))]
    assert provider.hours.count() == 10
    event = AuditEvent.objects.get(action="provider.added")
    assert event.object_label == "Dr. Ana Chen" and event.object_id == str(provider.public_id)


def test_the_week_saved_is_the_week_offered(alice):
    provider = provider_create(actor=actor(alice), name="Dr. Chen", hours=WEEKDAY_HOURS)
    kind = appointment_type_create(actor=actor(alice), name="Exam", minutes=60, online="patients")
    day = weekday_ahead(alice.practice, weekday=2)
    slots = slots_for(
        practice=alice.practice,
        kind=kind,
        providers=[provider],
        days=[day],
        earliest=at(alice.practice, day, 0),
        config=ScheduleSettings(practice=alice.practice, slot_minutes=60),
    )
    hours = [s.starts_at.astimezone(alice.practice.zone).hour for s in slots]
    assert hours == [9, 10, 11, 13, 14, 15, 16]  # none at noon: lunch


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ([Block(0, T(12), T(9))], "On Monday, 12:00 PM to 9:00 AM ends before it starts."),
        ([Block(1, T(9), T(9))], "On Tuesday, 9:00 AM to 9:00 AM ends before it starts."),
        (
            [Block(2, T(9), T(12)), Block(2, T(11), T(14))],
            "On Wednesday, 9:00 AM–12:00 PM and 11:00 AM–2:00 PM overlap.",
        ),
        ([Block(3, T(9, 7), T(12))], "On Thursday, please use times on a 5-minute mark"),
        ([Block(4, T(h), T(h, 30)) for h in range(8, 15)], "at most 6 blocks"),
    ],
)
def test_a_week_that_cannot_be_is_refused_by_day_and_saves_nothing(alice, hours, message):
    errors = refused(provider_create, actor=actor(alice), name="Dr. Chen", hours=hours)
    (key,) = errors
    assert key == f"hours_{hours[0].weekday}"
    assert message in errors[key][0]
    assert not Provider.objects.exists() and not WorkingHours.objects.exists()
    assert audited("provider.added") == 0


def test_blocks_that_touch_are_not_an_overlap(alice):
    provider = provider_create(
        actor=actor(alice), name="Dr. Chen", hours=[Block(0, T(9), T(12)), Block(0, T(12), T(13))]
    )
    assert provider.hours.count() == 2


def test_every_problem_is_named_at_once(alice):
    provider_create(actor=actor(alice), name="Dr. Chen")
    errors = refused(
        provider_create,
        actor=actor(alice),
        name="dr. chen",
        hours=[Block(0, T(10), T(9)), Block(6, T(9), T(12)), Block(6, T(10), T(11))],
    )
    assert set(errors) == {"name", "hours_0", "hours_6"}
    assert "There is already a provider called “dr. chen”." in errors["name"][0]
    assert Provider.objects.count() == 1


def test_a_blank_name_is_refused(alice):
    assert refused(provider_create, actor=actor(alice), name="   ") == {
        "name": ["Please give the provider’s name."]
    }
    assert not Provider.objects.exists()


def test_an_update_replaces_the_week_and_keeps_booked_appointments(alice, patient_a):
    provider, kind = schedule_on(alice)
    day = weekday_ahead(alice.practice)
    booked = appointment_book(
        actor=patient_actor(alice, patient_a),
        choice=Choice(kind, provider, at(alice.practice, day, 9)),
        key="k1",
    )
    saved = provider_update(
        actor=actor(alice),
        provider=provider,
        name="Dr. Chen",
        active=True,
        hours=[Block(day.weekday(), T(13), T(16))],
    )
    assert list(saved.hours.values_list("weekday", "starts", "ends")) == [
        (day.weekday(), T(13), T(16))
    ]
    booked.refresh_from_db()
    assert booked.status == "booked"  # outside the new hours, and still booked
    assert audited("provider.changed") == 1


def test_saving_a_provider_unchanged_records_nothing(alice):
    provider = provider_create(actor=actor(alice), name="Dr. Chen", hours=WEEKDAY_HOURS)
    provider_update(
        actor=actor(alice),
        provider=provider,
        name="Dr. Chen",
        active=True,
        hours=list(reversed(WEEKDAY_HOURS)),
    )
    assert audited("provider.changed") == 0


def test_a_provider_who_stops_taking_appointments_is_offered_no_more(alice):
    provider, kind = schedule_on(alice)
    provider_update(
        actor=actor(alice), provider=provider, name=provider.name, active=False, hours=[]
    )
    assert providers_for(alice.practice, kind) == []


def test_a_bad_update_changes_nothing(alice):
    provider = provider_create(actor=actor(alice), name="Dr. Chen", hours=WEEKDAY_HOURS)
    refused(
        provider_update,
        actor=actor(alice),
        provider=provider,
        name="",
        active=False,
        hours=[Block(0, T(9), T(8))],
    )
    provider.refresh_from_db()
    assert (provider.name, provider.active, provider.hours.count()) == ("Dr. Chen", True, 10)


def test_a_provider_of_another_practice_is_not_found(alice, carol):
    provider = Provider.objects.create(practice=carol.practice, name="Dr. Y")
    with pytest.raises(NotFound):
        provider_update(actor=actor(alice), provider=provider, name="Mine", active=True, hours=[])
    with pytest.raises(NotFound):
        provider_remove(actor=actor(alice), provider=provider)
    with pytest.raises(NotFound):
        day_off_add(actor=actor(alice), provider=provider, date=practice_today(alice.practice))
    with pytest.raises(NotFound):
        appointment_type_create(
            actor=actor(alice), name="Exam", minutes=30, online="patients", providers=[provider]
        )
    provider.refresh_from_db()
    assert provider.name == "Dr. Y" and provider.active
    assert not AppointmentType.objects.exists() and not DayOff.objects.exists()


# Removing a provider -------------------------------------------------------------------------


def test_a_provider_without_appointments_is_deleted_with_their_hours_and_days_off(alice):
    provider = provider_create(actor=actor(alice), name="Dr. Chen", hours=WEEKDAY_HOURS)
    day_off_add(actor=actor(alice), provider=provider, date=practice_today(alice.practice))
    done = provider_remove(actor=actor(alice), provider=provider)
    assert done.deleted and done.withdrawn == []
    assert not Provider.objects.exists()
    assert not WorkingHours.objects.exists() and not DayOff.objects.exists()
    event = AuditEvent.objects.get(action="provider.removed")
    assert event.object_label == "Dr. Chen" and event.object_id == str(provider.public_id)


def test_a_type_only_the_removed_provider_saw_is_no_longer_offered(alice):
    chen = provider_create(actor=actor(alice), name="Dr. Chen", hours=WEEKDAY_HOURS)
    park = provider_create(actor=actor(alice), name="Dr. Park", hours=WEEKDAY_HOURS)
    only_chen = appointment_type_create(
        actor=actor(alice), name="Surgery consult", minutes=60, online="office", providers=[chen]
    )
    both = appointment_type_create(
        actor=actor(alice), name="Exam", minutes=30, online="patients", providers=[chen, park]
    )
    done = provider_remove(actor=actor(alice), provider=chen)
    assert done.withdrawn == ["Surgery consult"]
    only_chen.refresh_from_db()
    both.refresh_from_db()
    # Naming no one would offer it with every provider: it is withdrawn instead.
    assert not only_chen.active and list(only_chen.providers.all()) == []
    assert both.active and list(both.providers.all()) == [park]


def test_a_provider_with_appointments_is_kept_and_takes_no_new_ones(alice, patient_a):
    provider, kind = schedule_on(alice)
    day = weekday_ahead(alice.practice)
    booked = appointment_book(
        actor=patient_actor(alice, patient_a),
        choice=Choice(kind, provider, at(alice.practice, day, 9)),
        key="k1",
    )
    done = provider_remove(actor=actor(alice), provider=provider)
    assert not done.deleted and done.upcoming == 1
    provider.refresh_from_db()
    booked.refresh_from_db()
    assert not provider.active and booked.status == "booked"
    assert provider.hours.count() == 10  # their week is kept, should they come back
    assert audited("provider.changed") == 1 and audited("provider.removed") == 0
    again = provider_remove(actor=actor(alice), provider=provider)
    assert not again.deleted and audited("provider.changed") == 1  # twice is once


def test_past_appointments_keep_a_provider_too(alice, patient_a):
    provider, kind = schedule_on(alice)
    Appointment.objects.create(
        practice=alice.practice,
        patient=patient_a,
        provider=provider,
        type=kind,
        starts_at=at(alice.practice, datetime.date(2020, 3, 2), 9),
        ends_at=at(alice.practice, datetime.date(2020, 3, 2), 10),
        status="booked",
    )
    done = provider_remove(actor=actor(alice), provider=provider)
    assert not done.deleted and done.upcoming == 0
    assert Provider.objects.filter(pk=provider.pk, active=False).exists()


# Days off ------------------------------------------------------------------------------------


def test_days_off_for_a_provider_and_for_the_whole_practice(alice):
    provider = provider_create(actor=actor(alice), name="Dr. Chen", hours=WEEKDAY_HOURS)
    today = practice_today(alice.practice)
    mine = day_off_add(actor=actor(alice), provider=provider, date=today, reason=" Training ")
    closed = day_off_add(actor=actor(alice), provider=None, date=today + datetime.timedelta(days=3))
    assert (mine.provider, mine.reason) == (provider, "Training")
    assert closed.provider is None
    labels = set(
        AuditEvent.objects.filter(action="day_off.added").values_list("object_label", flat=True)
    )
    assert labels == {
        f"{today.isoformat()}, Dr. Chen",
        f"{(today + datetime.timedelta(days=3)).isoformat()}, the whole practice",
    }


def test_a_day_off_takes_the_day_from_what_is_offered(alice):
    provider, kind = schedule_on(alice)
    day = weekday_ahead(alice.practice)
    config = schedule_settings_for(alice.practice)

    def offered() -> int:
        return len(
            slots_for(
                practice=alice.practice,
                kind=kind,
                providers=[provider],
                days=[day],
                earliest=at(alice.practice, day, 0),
                config=config,
            )
        )

    assert offered() > 0
    closed = day_off_add(actor=actor(alice), provider=None, date=day)
    assert offered() == 0
    day_off_remove(actor=actor(alice), day_off=closed)
    assert offered() > 0


@pytest.mark.parametrize("provider_named", [True, False])
def test_a_day_off_twice_is_refused(alice, provider_named):
    provider = provider_create(actor=actor(alice), name="Dr. Chen") if provider_named else None
    day = practice_today(alice.practice)
    day_off_add(actor=actor(alice), provider=provider, date=day)
    errors = refused(day_off_add, actor=actor(alice), provider=provider, date=day)
    expected = "is already a day off for Dr. Chen." if provider else "is already closed on"
    assert list(errors) == ["date"] and expected in errors["date"][0]
    assert DayOff.objects.count() == 1 and audited("day_off.added") == 1


def test_a_day_off_in_the_past_or_too_far_ahead_is_refused(alice):
    today = practice_today(alice.practice)
    errors = refused(
        day_off_add, actor=actor(alice), provider=None, date=today - datetime.timedelta(days=1)
    )
    assert errors == {"date": ["That day has passed. Please choose today or a later day."]}
    errors = refused(
        day_off_add, actor=actor(alice), provider=None, date=today + datetime.timedelta(days=800)
    )
    assert errors == {"date": ["Please choose a day within the next two years."]}
    assert not DayOff.objects.exists()


def test_removing_a_day_off_twice_records_it_once(alice):
    closed = day_off_add(actor=actor(alice), provider=None, date=practice_today(alice.practice))
    day_off_remove(actor=actor(alice), day_off=closed)
    day_off_remove(actor=actor(alice), day_off=closed)
    assert not DayOff.objects.exists() and audited("day_off.removed") == 1


@pytest.mark.django_db(transaction=True)
def test_closing_the_same_day_twice_at_once_closes_it_once(alice):
    """The unique index leaves the whole practice's days (provider NULL) out: a lock covers them."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    day = practice_today(alice.practice) + datetime.timedelta(days=5)

    def close() -> str:
        try:
            day_off_add(actor=actor(alice), provider=None, date=day)
        except ValidationError:
            return "refused"
        return "closed"

    assert sorted(at_once(close, close)) == ["closed", "refused"]
    assert DayOff.objects.filter(provider=None, date=day).count() == 1
