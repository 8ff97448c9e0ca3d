"""Admin → Schedule's pages: who may open them, what they save, and bad input shown in place."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.practices.models import Practice, StaffMember
from clinicportal.scheduling.models import (
    AppointmentType,
    DayOff,
    Provider,
    ScheduleSettings,
)
from clinicportal.scheduling.services import Choice, appointment_book
from clinicportal.scheduling.setup import day_off_add
from clinicportal.scheduling.setup_selectors import practice_today
from tests.conftest import actor, login
from tests.schedule_admin import (
    PROVIDERS_URL,
    SETTINGS_URL,
    TYPES_URL,
    errors_by_id,
    week_data,
)
from tests.schedule_setup import at, patient_actor, provider_add, schedule_on, weekday_ahead

# Who may open them ---------------------------------------------------------------------------


def admin_urls(provider: Provider, kind: AppointmentType, day_off: DayOff) -> list[str]:
    return [
        SETTINGS_URL,
        PROVIDERS_URL,
        reverse("office:provider_new"),
        reverse("office:provider", args=[provider.public_id]),
        reverse("office:provider_remove", args=[provider.public_id]),
        TYPES_URL,
        reverse("office:type_new"),
        reverse("office:type", args=[kind.public_id]),
    ]


def post_urls(provider: Provider, day_off: DayOff) -> list[str]:
    return [
        reverse("office:practice_day_off_add"),
        reverse("office:practice_day_off_remove"),
        reverse("office:provider_day_off_add", args=[provider.public_id]),
        reverse("office:day_off_delete", args=[provider.public_id, day_off.public_id]),
    ]


@pytest.fixture
def setup(alice) -> tuple[Provider, AppointmentType, DayOff]:
    provider, kind = schedule_on(alice)
    day_off = day_off_add(
        actor=actor(alice), provider=provider, date=practice_today(alice.practice)
    )
    return provider, kind, day_off


def test_staff_who_are_not_admins_get_403_and_change_nothing(bob_client, setup):
    provider, _kind, day_off = setup
    for url in admin_urls(*setup):
        assert bob_client.get(url).status_code == 403, url
        # The lists take no posts at all (405); every other page refuses staff.
        assert bob_client.post(url, week_data()).status_code in (403, 405), url
    for url in post_urls(provider, day_off):
        data = {"day_off": str(day_off.public_id), "day_off-date": "2099-01-01"}
        assert bob_client.post(url, data).status_code == 403, url
    assert Provider.objects.count() == 1 and DayOff.objects.count() == 1
    assert provider.hours.count() == 10 and Provider.objects.get().name == "Dr. Chen"
    assert not AuditEvent.objects.filter(action__startswith="provider.").exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, setup):
    for url in admin_urls(*setup):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/office/login/")


def test_the_write_routes_take_posts_only(alice_client, setup):
    provider, _kind, day_off = setup
    for url in post_urls(provider, day_off):
        assert alice_client.get(url).status_code == 405, url
    assert DayOff.objects.count() == 1


def test_admin_has_a_schedule_section(alice_client):
    html = alice_client.get(reverse("office:settings_website")).content.decode()
    assert f'<a href="{SETTINGS_URL}">Schedule</a>' in html
    page = alice_client.get(SETTINGS_URL).content.decode()
    assert f'<a href="{SETTINGS_URL}" aria-current="page">Schedule</a>' in page
    assert 'aria-current="page">Admin</a>' in page  # the top menu's section
    for url in (PROVIDERS_URL, TYPES_URL, reverse("office:provider_new")):
        assert 'aria-current="page">Admin</a>' in alice_client.get(url).content.decode(), url


def test_with_schedule_off_every_page_says_so_with_a_link(alice_client, practice_x):
    website = reverse("office:settings_website")
    for url in (SETTINGS_URL, PROVIDERS_URL, TYPES_URL):
        html = alice_client.get(url).content.decode()
        assert "Schedule is off (" in html and f'<a href="{website}">Admin → Website</a>' in html
    Practice.objects.filter(pk=practice_x.pk).update(schedule_enabled=True)
    assert "Schedule is off" not in alice_client.get(SETTINGS_URL).content.decode()


# Settings ------------------------------------------------------------------------------------


SETTINGS_POST = {
    "mode": "request",
    "cutoff_hours": "48",
    "notice_hours": "4",
    "horizon_days": "30",
    "reminder_hours": "0",
    "slot_minutes": "20",
}


def test_the_settings_page_shows_the_defaults_then_what_was_saved(alice_client, alice):
    html = alice_client.get(SETTINGS_URL).content.decode()
    assert 'value="off" id="id_mode_0" checked' in html.replace(" required", "")
    assert 'name="horizon_days" value="42"' in html
    response = alice_client.post(SETTINGS_URL, SETTINGS_POST, follow=True)
    assert response.redirect_chain == [(SETTINGS_URL, 302)]
    assert "The schedule settings were saved." in response.content.decode()
    config = ScheduleSettings.objects.get(practice=alice.practice)
    assert (config.mode, config.cutoff_hours, config.notice_hours) == ("request", 48, 4)
    assert (config.horizon_days, config.reminder_hours, config.slot_minutes) == (30, 0, 20)
    html = response.content.decode()
    assert 'name="cutoff_hours" value="48"' in html and 'value="20" selected' in html


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"cutoff_hours": "1000"}, "cutoff_hours", "Please enter a number from 0 to 720."),
        ({"horizon_days": "two"}, "horizon_days", "Please enter a whole number."),
        ({"notice_hours": "72", "horizon_days": "2"}, "notice_hours", "Patients could book"),
        ({"slot_minutes": "7"}, "slot_minutes", "Select a valid choice."),
        ({"mode": ""}, "mode", "Please choose how patients book online."),
    ],
)
def test_bad_settings_are_shown_by_their_field_and_save_nothing(
    alice_client, change, field, message
):
    response = alice_client.post(SETTINGS_URL, {**SETTINGS_POST, **change})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in errors_by_id(html)[f"id_{field}_error"]
    assert not ScheduleSettings.objects.exists()


def test_the_page_warns_when_patients_could_book_nothing(alice_client, alice):
    alice_client.post(SETTINGS_URL, {**SETTINGS_POST, "mode": "book"})
    html = alice_client.get(SETTINGS_URL).content.decode()
    assert "No provider takes appointments with weekly hours yet" in html
    assert "No appointment type can be booked online yet" in html
    schedule_on(alice)
    html = alice_client.get(SETTINGS_URL).content.decode()
    assert "No provider takes" not in html and "No appointment type can" not in html


@pytest.fixture
def yvonne_client(practice_y) -> Client:
    """The admin of practice Y: past every admin check, an outsider to X."""
    return login(Client(), StaffMember.objects.select_related("user").get(user__username="yvonne"))


def test_another_practices_admin_finds_none_of_it(yvonne_client, setup):
    provider, kind, day_off = setup
    for url in admin_urls(provider, kind, day_off)[3:5] + admin_urls(provider, kind, day_off)[7:]:
        assert yvonne_client.get(url).status_code == 404, url
        assert yvonne_client.post(url, week_data()).status_code == 404, url
    for url in post_urls(provider, day_off)[2:]:
        assert yvonne_client.post(url, {"day_off-date": "2099-01-01"}).status_code == 404, url
    assert Provider.objects.get().name == "Dr. Chen" and DayOff.objects.count() == 1


# Days off ------------------------------------------------------------------------------------


def test_add_and_remove_a_providers_day_off(alice_client, alice):
    provider = provider_add(alice.practice, "Dr. Chen")
    day = weekday_ahead(alice.practice)
    add_url = reverse("office:provider_day_off_add", args=[provider.public_id])
    response = alice_client.post(
        add_url, {"day_off-date": day.isoformat(), "day_off-reason": "Training"}, follow=True
    )
    page = reverse("office:provider", args=[provider.public_id])
    assert response.redirect_chain == [(page + "#days-off", 302)]
    html = response.content.decode()
    assert f"{day:%A, %B} {day.day}, {day.year} is a day off for Dr. Chen." in html
    assert "Training" in html
    day_off = DayOff.objects.get(provider=provider, date=day)
    remove = reverse("office:day_off_delete", args=[provider.public_id, day_off.public_id])
    assert f'action="{remove}"' in html
    response = alice_client.post(remove, follow=True)
    assert "is no longer a day off for Dr. Chen." in response.content.decode()
    assert not DayOff.objects.exists()


def test_a_day_off_says_the_appointments_that_day_stay(alice_client, alice, patient_a):
    provider, kind = schedule_on(alice)
    day = weekday_ahead(alice.practice)
    appointment_book(
        actor=patient_actor(alice, patient_a),
        choice=Choice(kind, provider, at(alice.practice, day, 9)),
        key="k",
    )
    add_url = reverse("office:provider_day_off_add", args=[provider.public_id])
    response = alice_client.post(add_url, {"day_off-date": day.isoformat()}, follow=True)
    assert "The 1 appointment already booked that day stays booked" in response.content.decode()


@pytest.mark.parametrize(
    ("days", "message"),
    [
        (-1, "That day has passed. Please choose today or a later day."),
        (0, "is already a day off for Dr. Chen."),
        (None, "Please choose the day."),
    ],
)
def test_a_bad_day_off_is_shown_by_the_date_and_saves_nothing(alice_client, alice, days, message):
    provider = provider_add(alice.practice, "Dr. Chen")
    today = practice_today(alice.practice)
    day_off_add(actor=actor(alice), provider=provider, date=today)
    date = "" if days is None else (today + datetime.timedelta(days=days)).isoformat()
    response = alice_client.post(
        reverse("office:provider_day_off_add", args=[provider.public_id]), {"day_off-date": date}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert message in errors_by_id(html)["id_day_off-date_error"]
    assert 'name="h0_0_starts" value="09:00"' in html  # the rest of the page as it was
    assert DayOff.objects.count() == 1


def test_a_day_off_of_another_provider_is_not_found_under_this_one(alice_client, alice):
    chen = provider_add(alice.practice, "Dr. Chen")
    park = provider_add(alice.practice, "Dr. Park")
    theirs = day_off_add(actor=actor(alice), provider=park, date=practice_today(alice.practice))
    url = reverse("office:day_off_delete", args=[chen.public_id, theirs.public_id])
    assert alice_client.post(url).status_code == 404
    assert DayOff.objects.count() == 1


def test_close_and_open_the_whole_practice(alice_client, alice):
    day = weekday_ahead(alice.practice)
    response = alice_client.post(
        reverse("office:practice_day_off_add"),
        {"day_off-date": day.isoformat(), "day_off-reason": "Holiday"},
        follow=True,
    )
    assert response.redirect_chain == [(SETTINGS_URL + "#closed", 302)]
    html = response.content.decode()
    assert "The practice is closed on" in html and "Holiday" in html
    closed = DayOff.objects.get(provider=None)
    assert f'name="day_off" value="{closed.public_id}"' in html
    response = alice_client.post(
        reverse("office:practice_day_off_remove"), {"day_off": str(closed.public_id)}, follow=True
    )
    assert "The practice is open again on" in response.content.decode()
    assert not DayOff.objects.exists()


def test_closing_a_day_twice_is_refused_next_to_the_date(alice_client, alice):
    day_off_add(actor=actor(alice), provider=None, date=practice_today(alice.practice))
    response = alice_client.post(
        reverse("office:practice_day_off_add"),
        {"day_off-date": practice_today(alice.practice).isoformat()},
    )
    assert response.status_code == 400
    assert (
        "The practice is already closed on"
        in errors_by_id(response.content.decode())["id_day_off-date_error"]
    )
    assert DayOff.objects.count() == 1


@pytest.mark.parametrize("value", ["not-an-id", "", "00000000-0000-0000-0000-000000000404"])
def test_opening_a_day_that_is_not_one_is_not_found(alice_client, alice, value):
    provider = provider_add(alice.practice, "Dr. Chen")
    # A provider's day off is not the practice's, either.
    day_off_add(actor=actor(alice), provider=provider, date=practice_today(alice.practice))
    mine = DayOff.objects.get()
    for day_off in (value, str(mine.public_id)):
        response = alice_client.post(
            reverse("office:practice_day_off_remove"), {"day_off": day_off}
        )
        assert response.status_code == 404
    assert DayOff.objects.count() == 1


def test_another_practice_cannot_open_this_practices_closed_day(alice, yvonne_client):
    closed = day_off_add(actor=actor(alice), provider=None, date=practice_today(alice.practice))
    response = yvonne_client.post(
        reverse("office:practice_day_off_remove"), {"day_off": str(closed.public_id)}
    )
    assert response.status_code == 404
    assert DayOff.objects.filter(pk=closed.pk).exists()
    assert not AuditEvent.objects.filter(action="day_off.removed").exists()


# Appointment types ---------------------------------------------------------------------------


def type_data(**change: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Contact lens fitting",
        "minutes": "45",
        "online": "patients",
        "instructions": "Bring your lenses.",
        "active": "on",
    }
    return {**data, **change}


def test_add_an_appointment_type_for_every_provider(alice_client, alice):
    provider_add(alice.practice, "Dr. Chen")
    response = alice_client.post(reverse("office:type_new"), type_data(), follow=True)
    assert response.redirect_chain == [(TYPES_URL, 302)]
    html = response.content.decode()
    assert "Contact lens fitting was added." in html
    assert "45 minutes" in html and "Every provider" in html
    kind = AppointmentType.objects.get()
    assert kind.is_online and kind.instructions == "Bring your lenses."
    assert not kind.providers.exists()


def test_edit_a_type_to_name_its_providers_and_take_it_offline(alice_client, alice):
    chen = provider_add(alice.practice, "Dr. Chen")
    park = provider_add(alice.practice, "Dr. Park")
    kind = AppointmentType.objects.create(practice=alice.practice, name="Exam", minutes=30)
    url = reverse("office:type", args=[kind.public_id])
    html = alice_client.get(url).content.decode()
    assert "Dr. Chen" in html and "Dr. Park" in html
    change = type_data(name="Exam", online="office", providers=[str(park.pk)])
    del change["active"]
    response = alice_client.post(url, change, follow=True)
    assert "Exam was saved." in response.content.decode()
    kind.refresh_from_db()
    assert list(kind.providers.all()) == [park] and not kind.active
    assert kind.online == "office" and chen not in kind.providers.all()
    assert "Dr. Park" in response.content.decode()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "Please give the appointment type a name."),
        ({"minutes": "32"}, "minutes", "in steps of 5"),
        ({"minutes": "600"}, "minutes", "from 5 to 480 minutes"),
        ({"minutes": ""}, "minutes", "Please enter the length in minutes"),
        ({"online": ""}, "online", "Please choose who may book it."),
    ],
)
def test_a_bad_type_is_shown_by_its_field_and_saves_nothing(alice_client, change, field, message):
    response = alice_client.post(reverse("office:type_new"), type_data(**change))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in errors_by_id(html)[f"id_{field}_error"]
    assert "Bring your lenses." in html  # what was typed is kept
    assert not AppointmentType.objects.exists()


def test_a_provider_of_another_practice_cannot_be_named_on_a_type(alice_client, carol):
    theirs = Provider.objects.create(practice=carol.practice, name="Dr. Y")
    response = alice_client.post(reverse("office:type_new"), type_data(providers=[str(theirs.pk)]))
    assert response.status_code == 400
    assert "Select a valid choice." in errors_by_id(response.content.decode())["id_providers_error"]
    assert not AppointmentType.objects.exists()
