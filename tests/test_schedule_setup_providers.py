"""Admin → Schedule → Providers: a provider's week, edited with the keyboard, and removing one."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.scheduling.models import Appointment, AppointmentType, Provider, WorkingHours
from clinicportal.scheduling.services import Choice, appointment_book
from clinicportal.scheduling.setup import provider_create
from tests.conftest import actor
from tests.schedule_admin import (
    LUNCH_BREAK,
    PROVIDERS_URL,
    TYPES_URL,
    errors_by_id,
    hours_of,
    week_data,
)
from tests.schedule_setup import at, patient_actor, provider_add, schedule_on, weekday_ahead

T = datetime.time


# Providers -----------------------------------------------------------------------------------


def test_add_a_provider_with_a_lunch_break(alice_client):
    response = alice_client.post(
        reverse("office:provider_new"), week_data(week=LUNCH_BREAK), follow=True
    )
    provider = Provider.objects.get()
    assert response.redirect_chain == [(reverse("office:provider", args=[provider.public_id]), 302)]
    assert "Dr. Ana Chen was added." in response.content.decode()
    assert hours_of(provider)[:2] == [(0, T(9), T(12)), (0, T(13), T(17))]
    assert len(hours_of(provider)) == 10
    # The page shows the week again, with a blank row a day to add a block.
    html = response.content.decode()
    assert 'name="h0_1_starts" value="13:00"' in html and 'name="h0_2_starts"' in html
    assert 'name="h0_3_starts"' not in html and 'name="rows_5" value="1"' in html


def test_the_list_shows_each_providers_week(alice_client, alice):
    provider_add(alice.practice, "Dr. Chen")
    html = alice_client.get(PROVIDERS_URL).content.decode()
    text = re.sub(r"<[^>]+>", "", html)
    assert "Monday: 9:00 AM–12:00 PM, 1:00 PM–5:00 PM" in text
    assert "Saturday" not in html


def test_the_lists_cost_the_same_however_many_rows(alice_client, alice):
    provider_add(alice.practice, "Dr. One")
    AppointmentType.objects.create(practice=alice.practice, name="One", minutes=30)
    alice_client.get(PROVIDERS_URL)
    counts: list[list[int]] = []
    for more in range(2):
        with CaptureQueriesContext(connection) as providers_page:
            alice_client.get(PROVIDERS_URL)
        with CaptureQueriesContext(connection) as types_page:
            alice_client.get(TYPES_URL)
        counts.append([len(providers_page), len(types_page)])
        for n in range(3):
            extra = provider_add(alice.practice, f"Dr. {more}{n}")
            kind = AppointmentType.objects.create(
                practice=alice.practice, name=f"Type {more}{n}", minutes=30
            )
            kind.providers.add(extra)
    assert counts[0] == counts[1]


def test_add_a_block_keeps_what_was_typed_and_saves_nothing(alice_client):
    data = week_data(week={0: [("09:00", "12:00")]}, add_block="0")
    response = alice_client.post(reverse("office:provider_new"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="name" value="Dr. Ana Chen"' in html
    assert 'name="h0_0_starts" value="09:00"' in html
    assert 'name="rows_0" value="3"' in html  # the block, the blank row and one more
    assert re.search(r'<input type="time" name="h0_2_starts"[^>]*autofocus', html)
    assert 'class="errors"' not in html
    assert not Provider.objects.exists()


def test_same_hours_tuesday_to_friday_copies_monday(alice_client):
    data = week_data(week={0: LUNCH_BREAK[0], 5: [("08:00", "11:00")]}, copy_monday="1")
    response = alice_client.post(reverse("office:provider_new"), data)
    html = response.content.decode()
    for day in range(1, 5):
        assert f'name="h{day}_0_starts" value="09:00"' in html
        assert f'name="h{day}_1_ends" value="17:00"' in html
    assert 'name="h5_0_starts" value="08:00"' in html  # Saturday as it was
    assert 'name="h6_0_starts" value="" ' in html  # Sunday still empty
    assert not Provider.objects.exists()


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ({0: [("09:00", "12:00"), ("11:30", "14:00")]}, "On Monday, 9:00 AM–12:00 PM and"),
        ({2: [("12:00", "09:00")]}, "On Wednesday, 12:00 PM to 9:00 AM ends before it starts."),
    ],
)
def test_a_week_that_cannot_be_is_shown_by_its_day_and_saves_nothing(alice_client, week, message):
    response = alice_client.post(reverse("office:provider_new"), week_data(week=week))
    assert response.status_code == 400
    html = response.content.decode()
    (weekday,) = week
    assert message in errors_by_id(html)[f"id_rows_{weekday}_error"]
    # The day's times are marked and point at the day's error; what was typed is kept.
    starts = re.search(rf'<input type="time" name="h{weekday}_0_starts"[^>]*>', html)
    assert starts and 'aria-invalid="true"' in starts.group(0)
    assert f'aria-describedby="id_rows_{weekday}_error' in starts.group(0)
    assert f'value="{week[weekday][0][0]}"' in starts.group(0)
    assert (
        not Provider.objects.exists()
        and not AuditEvent.objects.filter(action="provider.added").exists()
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "  "}, "name", "Please give the provider’s name."),
        ({"h1_0_starts": "09:00"}, "h1_0_ends", "Please give an end time too."),
        ({"h1_0_ends": "09:00"}, "h1_0_starts", "Please give a start time too."),
        ({"h1_0_starts": "nine", "h1_0_ends": "10:00"}, "h1_0_starts", "Please enter a time"),
    ],
)
def test_bad_fields_are_shown_next_to_them(alice_client, change, field, message):
    response = alice_client.post(reverse("office:provider_new"), {**week_data(), **change})
    assert response.status_code == 400
    assert message in errors_by_id(response.content.decode())[f"id_{field}_error"]
    assert not Provider.objects.exists()


def test_times_may_be_typed_on_a_twelve_hour_clock(alice_client):
    data = {**week_data(), "h3_0_starts": "8:30 AM", "h3_0_ends": "4:45 pm"}
    alice_client.post(reverse("office:provider_new"), data)
    assert hours_of(Provider.objects.get()) == [(3, T(8, 30), T(16, 45))]


def test_a_double_post_adds_one_provider(alice_client):
    data = {**week_data(week=LUNCH_BREAK), "submission": "once-only-token"}
    first = alice_client.post(reverse("office:provider_new"), data)
    second = alice_client.post(reverse("office:provider_new"), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Provider.objects.count() == 1 and WorkingHours.objects.count() == 10


def test_edit_a_provider_and_clear_a_block(alice_client, alice):
    provider = provider_add(alice.practice, "Dr. Chen", weekdays=range(1))
    url = reverse("office:provider", args=[provider.public_id])
    html = alice_client.get(url).content.decode()
    assert 'name="h0_1_ends" value="17:00"' in html and 'name="rows_0" value="3"' in html
    week = {0: [("09:00", "12:00"), ("", "")], 6: [("10:00", "14:00")]}
    response = alice_client.post(url, week_data("Dr. Chen", week), follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "Dr. Chen was saved." in response.content.decode()
    assert hours_of(provider) == [(0, T(9), T(12)), (6, T(10), T(14))]


def test_a_provider_who_stops_taking_appointments_keeps_them_and_says_so(
    alice_client, alice, patient_a
):
    provider, kind = schedule_on(alice)
    booked = appointment_book(
        actor=patient_actor(alice, patient_a),
        choice=Choice(kind, provider, at(alice.practice, weekday_ahead(alice.practice), 9)),
        key="k",
    )
    url = reverse("office:provider", args=[provider.public_id])
    response = alice_client.post(url, week_data("Dr. Chen", LUNCH_BREAK, active=False), follow=True)
    html = response.content.decode()
    assert (
        "Dr. Chen takes no new appointments; the 1 appointment booked ahead with them stays" in html
    )
    booked.refresh_from_db()
    assert booked.status == "booked" and not Provider.objects.get().active


# Removing a provider -------------------------------------------------------------------------


def test_remove_a_provider_without_appointments(alice_client, alice):
    provider = provider_create(actor=actor(alice), name="Dr. Gone")
    url = reverse("office:provider_remove", args=[provider.public_id])
    assert "has no appointments: they are removed" in alice_client.get(url).content.decode()
    assert Provider.objects.exists()  # asking removes nothing
    response = alice_client.post(url, follow=True)
    assert response.redirect_chain == [(PROVIDERS_URL, 302)]
    assert "Dr. Gone was removed." in response.content.decode()
    assert not Provider.objects.exists()


def test_remove_a_provider_with_appointments_keeps_them(alice_client, alice, patient_a):
    provider, kind = schedule_on(alice)
    appointment_book(
        actor=patient_actor(alice, patient_a),
        choice=Choice(kind, provider, at(alice.practice, weekday_ahead(alice.practice), 9)),
        key="k",
    )
    url = reverse("office:provider_remove", args=[provider.public_id])
    asked = alice_client.get(url).content.decode()
    assert "The 1 appointment booked ahead stays booked" in asked
    response = alice_client.post(url, follow=True)
    assert "the 1 appointment booked ahead with them stays booked" in response.content.decode()
    assert Provider.objects.filter(active=False).count() == 1
    assert Appointment.objects.get().status == "booked"
