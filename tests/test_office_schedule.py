"""Schedule in the office: the menu item, the day and week calendar, and Schedule switched off."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.practices.models import Practice, StaffMember
from clinicportal.scheduling.models import (
    Appointment,
    AppointmentType,
    DayOff,
    Provider,
    ScheduleSettings,
)
from tests.conftest import add_patient
from tests.office_schedule import place, text
from tests.schedule_setup import at, provider_add, schedule_on, weekday_ahead

DAY = reverse("office:schedule")
WEEK = reverse("office:schedule_week")


@pytest.fixture
def chen(alice: StaffMember) -> tuple[Provider, AppointmentType]:
    return schedule_on(alice)


@pytest.fixture
def monday(practice_x: Practice) -> datetime.date:
    return weekday_ahead(practice_x, 0)


def test_the_menu_shows_schedule_only_while_the_practice_has_it_on(bob_client, practice_x):
    assert "Schedule</a>" not in bob_client.get(reverse("office:patients")).content.decode()
    Practice.objects.filter(pk=practice_x.pk).update(schedule_enabled=True)
    page = bob_client.get(reverse("office:patients")).content.decode()
    assert f'<a href="{DAY}">Schedule</a>' in page
    assert (
        f'<a href="{DAY}" aria-current="page">Schedule</a>' in bob_client.get(DAY).content.decode()
    )


def test_with_schedule_off_every_office_schedule_route_is_not_found(
    bob_client, alice, chen, patient_a, monday
):
    provider, kind = chen
    booked = place(patient_a, provider, kind, at(patient_a.practice, monday, 9))
    Practice.objects.filter(pk=alice.practice.pk).update(schedule_enabled=False)
    for url in (DAY, WEEK, reverse("office:appointment", args=[booked.public_id])):
        assert bob_client.get(url).status_code == 404, url
    assert (
        bob_client.get(reverse("office:appointment_new", args=[patient_a.public_id])).status_code
        == 404
    )
    for name in ("appointment_confirm", "appointment_cancel", "appointment_move"):
        url = reverse(f"office:{name}", args=[booked.public_id])
        assert bob_client.post(url, {"cancel-message": "x"}).status_code == 404, name
    booked.refresh_from_db()
    assert booked.status == Appointment.Status.BOOKED


def test_the_day_shows_each_providers_appointments_in_the_practices_time(
    bob_client, alice, chen, patient_a, patient_b, monday
):
    provider, kind = chen
    lee = provider_add(alice.practice, "Dr. Lee")
    practice = alice.practice
    booked = place(patient_a, provider, kind, at(practice, monday, 9))
    asked = place(patient_b, lee, kind, at(practice, monday, 14, 30), Appointment.Status.REQUESTED)
    response = bob_client.get(DAY, {"day": monday.isoformat()})
    assert response.status_code == 200
    html = response.content.decode()
    words = text(response)
    assert words.index("Dr. Chen") < words.index("Dr. Lee")  # a column each, by name
    assert "9:00 AM–9:30 AM Booked Lovelace, Ada Eye exam" in words
    assert "2:30 PM–3:00 PM Requested Pascal, Blaise Eye exam" in words
    # A request stands out in colour as well as in words.
    assert 'class="appt appt-requested"' in html
    assert 'class="appointment-status status-requested">Requested<' in html
    # Each links to its page and to its patient's.
    assert reverse("office:appointment", args=[booked.public_id]) in html
    assert reverse("office:appointment", args=[asked.public_id]) in html
    assert reverse("office:patient", args=[patient_a.public_id]) in html
    # The hours, the lunch break and the free stretches between appointments.
    assert "Hours: 9:00 AM–12:00 PM, 1:00 PM–5:00 PM" in words
    assert "9:30 AM–12:00 PM Free (150 minutes)" in words
    assert "12:00 PM–1:00 PM Break" in words


def test_times_follow_the_practices_zone_not_the_servers(bob_client, alice, chen, patient_a):
    provider, kind = chen
    practice = alice.practice
    Practice.objects.filter(pk=practice.pk).update(time_zone="America/Los_Angeles")
    practice.refresh_from_db()
    monday = weekday_ahead(practice, 0)
    place(patient_a, provider, kind, at(practice, monday, 10))  # 10:00 in Los Angeles
    words = text(bob_client.get(DAY, {"day": monday.isoformat()}))
    assert "10:00 AM–10:30 AM Booked Lovelace, Ada" in words


def test_days_off_and_days_without_hours_say_so(bob_client, alice, chen, monday):
    provider, _kind = chen
    lee = provider_add(alice.practice, "Dr. Lee", weekdays=range(1, 5))  # not on Mondays
    DayOff.objects.create(practice=alice.practice, provider=provider, date=monday, reason="Course")
    words = text(bob_client.get(DAY, {"day": monday.isoformat()}))
    assert "Dr. Chen 0 appointments Day off: Course" in words
    assert "Dr. Lee 0 appointments Not working" in words
    DayOff.objects.create(practice=alice.practice, date=monday + datetime.timedelta(days=1))
    assert "Day off" in text(bob_client.get(DAY, {"day": str(monday + datetime.timedelta(days=1))}))
    assert lee.pk


def test_cancelled_appointments_stay_listed_and_leave_their_time_free(
    bob_client, chen, patient_a, monday
):
    provider, kind = chen
    place(
        patient_a, provider, kind, at(patient_a.practice, monday, 9), Appointment.Status.CANCELLED
    )
    words = text(bob_client.get(DAY, {"day": monday.isoformat()}))
    assert "9:00 AM–9:30 AM Cancelled Lovelace, Ada" in words
    assert "9:00 AM–12:00 PM Free (180 minutes)" in words
    assert "Dr. Chen 0 appointments" in words


def test_one_provider_can_be_chosen(bob_client, alice, chen, patient_a, patient_b, monday):
    provider, kind = chen
    lee = provider_add(alice.practice, "Dr. Lee")
    place(patient_a, provider, kind, at(alice.practice, monday, 9))
    place(patient_b, lee, kind, at(alice.practice, monday, 9))
    response = bob_client.get(DAY, {"day": monday.isoformat(), "provider": str(lee.public_id)})
    words = text(response)
    assert "Pascal, Blaise" in words and "Lovelace, Ada" not in words
    assert "<h3" in response.content.decode() and "Dr. Chen 1 appointment" not in words
    # The links to other days keep the choice.
    assert f"provider={lee.public_id}" in response.content.decode()


def test_another_practices_provider_or_no_id_at_all_is_not_found(bob_client, carol, chen, monday):
    theirs, _kind = schedule_on(carol)
    for value in (str(theirs.public_id), "not-an-id"):
        for url in (DAY, WEEK):
            assert bob_client.get(url, {"provider": value}).status_code == 404


def test_a_bad_day_is_said_next_to_the_field_and_today_shown(bob_client, chen, practice_x):
    response = bob_client.get(DAY, {"day": "2026-02-31"})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="id_day_error">\s*<p>Enter a valid date.</p>', html)
    assert 'aria-invalid="true"' in html
    today = datetime.datetime.now(practice_x.zone).date()
    assert today.strftime("%m/%d/%Y") in text(response)


def test_the_day_defaults_to_today_in_the_practices_zone_with_links_either_side(
    bob_client, chen, practice_x
):
    today = datetime.datetime.now(practice_x.zone).date()
    html = bob_client.get(DAY).content.decode()
    for day in (today - datetime.timedelta(days=1), today + datetime.timedelta(days=1)):
        assert f"{DAY}?day={day.isoformat()}" in html
    assert "Today" in html


def test_the_week_runs_monday_to_sunday_for_each_provider(
    bob_client, alice, chen, patient_a, patient_b, monday
):
    provider, kind = chen
    lee = provider_add(alice.practice, "Dr. Lee")
    wednesday = monday + datetime.timedelta(days=2)
    place(patient_a, provider, kind, at(alice.practice, wednesday, 11))
    place(patient_b, lee, kind, at(alice.practice, monday, 16), Appointment.Status.REQUESTED)
    response = bob_client.get(WEEK, {"day": wednesday.isoformat()})  # any day of the week
    assert response.status_code == 200
    words = text(response)
    sunday = monday + datetime.timedelta(days=6)
    assert f"{monday:%a %m/%d/%Y} to {sunday:%a %m/%d/%Y}" in words
    body = words.split(f"to {sunday:%a %m/%d/%Y}", 1)[1]  # past the choices' provider names
    chen_part = body[body.index("Dr. Chen") : body.index("Dr. Lee")]
    assert f"{wednesday:%a %m/%d} Hours: 9:00 AM–12:00 PM, 1:00 PM–5:00 PM 11:00 AM" in chen_part
    assert f"{sunday:%a %m/%d} Not working No appointments" in chen_part
    assert "Lovelace, Ada" in chen_part and "Pascal" not in chen_part
    assert "4:00 PM–4:30 PM Requested Pascal, Blaise" in body[body.index("Dr. Lee") :]
    html = response.content.decode()
    previous = monday - datetime.timedelta(days=7)
    assert f"{WEEK}?day={previous.isoformat()}" in html
    assert f"{WEEK}?day={(monday + datetime.timedelta(days=7)).isoformat()}" in html


def test_an_inactive_provider_with_appointments_keeps_a_column(
    bob_client, alice, chen, patient_a, monday
):
    provider, kind = chen
    place(patient_a, provider, kind, at(alice.practice, monday, 9))
    Provider.objects.filter(pk=provider.pk).update(active=False)
    words = text(bob_client.get(DAY, {"day": monday.isoformat()}))
    assert "Dr. Chen 1 appointment" in words
    assert (
        "Dr. Chen"
        not in text(bob_client.get(DAY, {"day": str(monday + datetime.timedelta(days=1))})).split(
            "Next day →"
        )[-1]
    )


def test_another_practices_appointments_are_not_shown(bob_client, carol, chen, patient_c, monday):
    theirs, kind = schedule_on(carol)
    place(patient_c, theirs, kind, at(carol.practice, monday, 9))
    words = text(bob_client.get(DAY, {"day": monday.isoformat()}))
    assert "Babbage" not in words


def _fill(alice: StaffMember, provider: Provider, kind: AppointmentType, day, count: int) -> None:
    """``count`` appointments on ``day``, 15 minutes apart, among a few patients."""
    patients = [add_patient(alice, f"P{n}", f"Filler{n}") for n in range(3)]
    start = at(alice.practice, day, 8)
    for n in range(count):
        place(patients[n % 3], provider, kind, start + datetime.timedelta(minutes=15 * n))


@pytest.mark.parametrize("url", [DAY, WEEK])
def test_the_calendar_costs_the_same_queries_for_3_appointments_as_for_30(
    bob_client, alice, chen, monday, url
):
    provider, _kind = chen
    short = AppointmentType.objects.create(practice=alice.practice, name="Check", minutes=15)
    _fill(alice, provider, short, monday, 3)
    bob_client.get(url, {"day": monday.isoformat()})  # the session's first stamp
    with CaptureQueriesContext(connection) as few:
        assert bob_client.get(url, {"day": monday.isoformat()}).status_code == 200
    later = monday + datetime.timedelta(days=7)  # another week, for the week's calendar too
    _fill(alice, provider, short, later, 30)
    with CaptureQueriesContext(connection) as many:
        response = bob_client.get(url, {"day": later.isoformat()})
    assert response.status_code == 200
    assert response.content.decode().count('class="appt appt-booked"') == 30
    assert len(many.captured_queries) == len(few.captured_queries)


def test_without_providers_the_calendar_says_where_to_add_them(bob_client, practice_x):
    Practice.objects.filter(pk=practice_x.pk).update(schedule_enabled=True)
    ScheduleSettings.objects.create(practice=practice_x)
    assert "No providers yet" in text(bob_client.get(DAY))


@pytest.mark.parametrize("url", [DAY, WEEK])
@pytest.mark.parametrize("params", [{}, {"provider": ""}])
def test_the_day_field_says_which_day_is_shown_from_the_first_visit(bob_client, chen, url, params):
    from django.utils import timezone

    html = bob_client.get(url, params).content.decode()
    field = re.search(r'<input type="date" name="day"[^>]*>', html)
    assert field is not None
    assert f'value="{timezone.localdate().isoformat()}"' in field.group(0)
    assert "errorlist" not in html and 'aria-invalid="true"' not in html
