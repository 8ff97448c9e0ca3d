"""An admin sets up the schedule on a phone: the online mode, a closed day, a provider's week
typed from the keyboard (with a lunch break), a day off, and an appointment type."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clinicportal.scheduling.models import AppointmentType, DayOff, Provider, ScheduleSettings
from clinicportal.scheduling.setup_selectors import practice_today
from tests.browser.test_office_browser import sign_in
from tests.conftest import enrol_authenticator

pytestmark = pytest.mark.browser


def look(page, axe, name: str) -> None:
    """Check the page with axe-core, that nothing scrolls sideways at 360 px, and keep a picture."""
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, page.url
    shots = os.environ.get("SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"schedule-{name}.png"), full_page=True)


def type_time(page, label: str, keys: str) -> None:
    """Type a time into a time field as a keyboard user does: hour, minute, then A or P."""
    field = page.get_by_label(label, exact=True)
    field.focus()
    page.keyboard.type(keys)


@pytest.mark.parametrize("page", [360], indirect=True)
def test_an_admin_sets_up_the_schedule_on_a_phone(page, axe, alice):
    enrol_authenticator(alice)
    sign_in(page, axe, "alice")
    page.get_by_role("link", name="Admin").click()
    axe.check(page)
    page.get_by_role("link", name="Schedule", exact=True).click()
    expect(page.get_by_role("heading", name="Online booking")).to_be_visible()
    expect(page.get_by_text("Schedule is off (")).to_be_visible()
    look(page, axe, "settings")

    # The online mode and its numbers; a slip first, shown by its field.
    page.get_by_label("Book: patients book a free time, confirmed at once").check()
    page.get_by_label("Offer times up to (days ahead)").fill("0")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#id_horizon_days_error")).to_have_text(
        "Please enter a number from 1 to 365."
    )
    expect(page.get_by_label("Offer times up to (days ahead)")).to_have_attribute(
        "aria-invalid", "true"
    )
    look(page, axe, "settings-error")
    page.get_by_label("Offer times up to (days ahead)").fill("60")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("The schedule settings were saved.")).to_be_visible()
    expect(page.get_by_text("No provider takes appointments with weekly hours yet")).to_be_visible()
    assert ScheduleSettings.objects.get().mode == "book"

    # The whole practice closed for a day: the past is refused, a day ahead is listed.
    yesterday = practice_today(alice.practice) - datetime.timedelta(days=1)
    holiday = practice_today(alice.practice) + datetime.timedelta(days=20)
    page.get_by_label("Date").fill(yesterday.isoformat())
    page.get_by_role("button", name="Close that day").click()
    expect(page.locator("#id_day_off-date_error")).to_contain_text("That day has passed.")
    axe.check(page)
    page.get_by_label("Date").fill(holiday.isoformat())
    page.get_by_label("Reason").fill("Holiday")
    page.get_by_role("button", name="Close that day").click()
    expect(page.get_by_text("The practice is closed on")).to_be_visible()
    expect(page.locator("#closed table")).to_contain_text("Holiday")
    look(page, axe, "settings-closed")

    # A provider: Monday typed from the keyboard, a second block for after lunch, then the
    # same hours Tuesday to Friday.
    setup_nav = page.get_by_role("navigation", name="Schedule setup")
    setup_nav.get_by_role("link", name="Providers").click()
    axe.check(page)
    page.get_by_role("link", name="Add a provider").click()
    look(page, axe, "provider-new")
    page.get_by_label("Name").fill("Dr. Ana Chen")
    type_time(page, "From (Monday, block 1)", "0900A")
    type_time(page, "To (Monday, block 1)", "1200P")
    expect(page.get_by_label("To (Monday, block 1)", exact=True)).to_have_value("12:00")
    page.get_by_role("button", name="Add a block (Monday)").click()
    # The page comes back with the new row, and the keyboard in it.
    expect(page.get_by_label("From (Monday, block 2)", exact=True)).to_be_focused()
    expect(page.get_by_label("From (Monday, block 1)", exact=True)).to_have_value("09:00")
    axe.check(page)
    page.keyboard.type("0100P")
    type_time(page, "To (Monday, block 2)", "0500P")
    page.get_by_role("button", name="Same hours Tuesday to Friday").click()
    expect(page.get_by_label("To (Friday, block 2)", exact=True)).to_have_value("17:00")
    axe.check(page)

    # Friday's afternoon overlapping its morning is shown by Friday, and nothing is saved.
    page.get_by_label("From (Friday, block 2)", exact=True).fill("11:00")
    page.get_by_role("button", name="Add the provider").click()
    friday_error = page.locator("#id_rows_4_error")
    expect(friday_error).to_contain_text(
        "On Friday, 9:00 AM–12:00 PM and 11:00 AM–5:00 PM overlap."
    )
    expect(page.get_by_label("From (Friday, block 2)", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    assert not Provider.objects.exists()
    look(page, axe, "provider-error")
    page.get_by_label("From (Friday, block 2)", exact=True).fill("13:00")
    # Enter in a field saves: it does not add a block.
    page.get_by_label("Name").press("Enter")
    expect(page.get_by_text("Dr. Ana Chen was added.")).to_be_visible()
    provider = Provider.objects.get()
    assert provider.hours.count() == 10
    look(page, axe, "provider")

    # A day off of the provider's own, added and removed.
    day_off = practice_today(alice.practice) + datetime.timedelta(days=10)
    page.get_by_label("Date").fill(day_off.isoformat())
    page.get_by_label("Reason").fill("Training")
    page.get_by_role("button", name="Add the day off").click()
    expect(page.get_by_text("is a day off for Dr. Ana Chen.")).to_be_visible()
    look(page, axe, "provider-day-off")
    page.locator("#days-off").get_by_role("button", name="Remove").click()
    expect(page.get_by_text("is no longer a day off for Dr. Ana Chen.")).to_be_visible()
    assert not DayOff.objects.filter(provider=provider).exists()
    axe.check(page)

    page.get_by_role("link", name="← Providers").click()
    expect(
        page.get_by_role("cell", name="Monday: 9:00 AM–12:00 PM, 1:00 PM–5:00 PM")
    ).to_be_visible()
    look(page, axe, "providers")

    # An appointment type: a length not in steps of 5 first.
    page.get_by_role("navigation", name="Schedule setup").get_by_role(
        "link", name="Appointment types"
    ).click()
    axe.check(page)
    page.get_by_role("link", name="Add an appointment type").click()
    look(page, axe, "type-new")
    page.get_by_label("Name").fill("Eye exam")
    page.get_by_label("Length (minutes)").fill("32")
    page.get_by_label("Instructions for the patient").fill("Bring your glasses.")
    page.get_by_label("Dr. Ana Chen").check()
    page.get_by_role("button", name="Add the appointment type").click()
    expect(page.locator("#id_minutes_error")).to_contain_text("in steps of 5")
    expect(page.get_by_label("Dr. Ana Chen")).to_be_checked()
    look(page, axe, "type-error")
    page.get_by_label("Length (minutes)").fill("30")
    page.get_by_role("button", name="Add the appointment type").click()
    expect(page.get_by_text("Eye exam was added.")).to_be_visible()
    look(page, axe, "types")
    kind = AppointmentType.objects.get()
    assert kind.is_online and list(kind.providers.all()) == [provider]
    page.get_by_role("link", name="Eye exam").click()
    look(page, axe, "type")
