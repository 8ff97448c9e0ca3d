"""The front desk's Schedule, on a phone and on a desk: the day, a request, confirming it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clinicportal.scheduling.models import ScheduleSettings
from clinicportal.scheduling.services import Choice, appointment_book
from tests.browser.test_office_browser import sign_in
from tests.browser.test_small_screens import fits
from tests.schedule_setup import at, patient_actor, provider_add, schedule_on, weekday_ahead

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"]
        page.screenshot(path=str(Path(folder) / f"schedule-{name}-{width}.png"), full_page=True)


def look(page, axe, name: str) -> None:
    axe.check(page)
    fits(page)
    shot(page, name)


@pytest.mark.parametrize("page", [360, 1280], indirect=True)
def test_staff_find_a_request_on_the_day_and_confirm_it(
    page, axe, alice, bob, patient_a, patient_b
):
    provider, kind = schedule_on(alice, mode=ScheduleSettings.Mode.REQUEST)
    lee = provider_add(alice.practice, "Dr. Lee")
    monday = weekday_ahead(alice.practice, 0)
    appointment_book(
        actor=patient_actor(alice, patient_a),
        choice=Choice(kind, provider, at(alice.practice, monday, 9)),
        key="ada",
    )
    appointment_book(
        actor=patient_actor(alice, patient_b),
        choice=Choice(kind, lee, at(alice.practice, monday, 13, 30)),
        key="blaise",
    )
    sign_in(page, axe)

    page.get_by_role("link", name="Schedule").click()
    expect(page.get_by_role("heading", name="Schedule", level=1)).to_be_visible()
    axe.check(page)
    page.get_by_label("Day", exact=True).fill(monday.isoformat())
    page.get_by_role("button", name="Show", exact=True).click()
    day = page.locator(".provider-day", has=page.get_by_role("heading", name="Dr. Chen"))
    ada = day.locator(".appt", has_text="Lovelace, Ada")
    expect(ada).to_contain_text("9:00 AM–9:30 AM")
    expect(ada).to_contain_text("Requested")
    expect(day).to_contain_text("Hours: 9:00 AM–12:00 PM, 1:00 PM–5:00 PM")
    expect(page.locator(".provider-day", has_text="Dr. Lee")).to_contain_text("Pascal, Blaise")
    look(page, axe, "day")

    page.get_by_role("link", name="Week").click()
    expect(page.get_by_role("heading", name=f"{monday:%a %m/%d/%Y} to")).to_be_visible()
    look(page, axe, "week")
    page.get_by_role("link", name="Day", exact=True).click()
    expect(page.locator(".calendar-day")).to_be_visible()
    axe.check(page)

    ada = page.locator(".provider-day", has_text="Dr. Chen").locator(".appt", has_text="Ada")
    ada.get_by_role("link", name="9:00 AM–9:30 AM").click()
    expect(page.get_by_role("heading", name="Appointment: Ada Lovelace")).to_be_visible()
    look(page, axe, "appointment")

    # Confirming with nothing wrong in the message: booked, and the history says who.
    page.get_by_label("Message to the patient (optional)", exact=True).fill(
        "Please bring your glasses."
    )
    page.get_by_role("button", name="Confirm appointment").click()
    expect(page.get_by_role("status")).to_contain_text("Confirmed: Ada Lovelace")
    expect(page.locator(".page-head .appointment-status")).to_have_text("Booked")
    expect(page.locator(".history-list")).to_contain_text("Appointment confirmed · Bob Front Desk")
    look(page, axe, "confirmed")

    page.get_by_role("link", name="Move to another time").click()
    expect(page.get_by_role("group", name=f"Free times on {monday:%A %m/%d/%Y}")).to_be_visible()
    look(page, axe, "move")
    page.get_by_label("1:00 PM Dr. Lee").check()
    page.get_by_role("button", name="Move appointment").click()
    expect(page.get_by_role("status")).to_contain_text("now")
    expect(
        page.get_by_text("Provider Dr. Lee").or_(page.locator("dd", has_text="Dr. Lee"))
    ).to_be_visible()
    axe.check(page)

    page.get_by_role("link", name="Tasks").first.click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    look(page, axe, "tasks")
    page.get_by_role("link", name=f"Appointment requested: {monday:%m/%d/%Y} 1:30 PM").click()
    expect(page.get_by_role("heading", name="Appointment requested")).to_be_visible()
    look(page, axe, "task")


@pytest.mark.parametrize("page", [360, 1280], indirect=True)
def test_staff_book_for_a_patient_from_the_patient_page(page, axe, alice, bob, patient_a):
    provider, _kind = schedule_on(alice)
    tuesday = weekday_ahead(alice.practice, 1)
    sign_in(page, axe)
    page.goto(f"/office/patients/{patient_a.public_id}/")
    axe.check(page)
    page.get_by_role("link", name="Book an appointment").click()
    axe.check(page)
    page.get_by_label("Visit").select_option(label="Eye exam (30 min)")
    page.get_by_label("Day", exact=True).fill(tuesday.isoformat())
    page.get_by_role("button", name="Show free times").click()
    look(page, axe, "book")
    page.get_by_role("button", name="Book appointment").click()  # no time chosen
    expect(page.locator("#id_time_error")).to_have_text("Please choose one of the times shown.")
    look(page, axe, "book-error")
    page.get_by_label("10:30 AM Dr. Chen").check()
    page.get_by_role("button", name="Book appointment").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Booked: Ada Lovelace, {tuesday:%A %m/%d/%Y}, 10:30 AM with Dr. Chen."
    )
    axe.check(page)
    assert provider.appointments.get().starts_at == at(alice.practice, tuesday, 10, 30)
