"""A patient books a time on a phone, and then sees it under SCHEDULE (axe-core on each page)."""

from __future__ import annotations

import datetime
import os

import pytest
from playwright.sync_api import expect

from clinicportal.scheduling.models import Appointment, ScheduleSettings
from clinicportal.scheduling.services import Choice, appointment_book
from tests.browser.test_portal_browser import portal_sign_in
from tests.browser.test_small_screens import fits
from tests.conftest import NEW_PASSWORD
from tests.test_portal_schedule import other_patient, two_doctors

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    """Keep a picture of the page when asked to (SCREENSHOT_DIR), to look at."""
    if shots := os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=f"{shots}/schedule-{name}.png", full_page=True)


def _to_free_times(page, axe) -> None:
    page.get_by_role("link", name="SCHEDULE").click()
    expect(page.get_by_role("heading", name="Schedule", exact=True)).to_be_visible()
    axe.check(page)
    fits(page)
    page.get_by_role("link", name="Book an appointment").click()
    axe.check(page)
    fits(page)
    shot(page, "1-type")
    page.get_by_label("Eye exam").check()
    page.get_by_role("button", name="Continue").click()
    axe.check(page)
    fits(page)
    shot(page, "2-provider")
    page.get_by_label("Dr. Chen").check()
    page.get_by_role("button", name="Show free times").click()
    expect(page.get_by_role("heading", name="Free times", exact=False)).to_be_visible()
    axe.check(page)
    fits(page)


def test_the_patient_books_a_time_and_sees_it_under_schedule(
    make_page, axe, alice, patient_a, ada_portal
):
    two_doctors(alice)
    # Every time offered is inside the cut-off: the confirmation says it cannot be changed.
    ScheduleSettings.objects.filter(practice=alice.practice).update(cutoff_hours=720)
    page = make_page(360)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)
    _to_free_times(page, axe)

    page.get_by_role("link", name="Next week").first.click()
    axe.check(page)
    fits(page)
    shot(page, "3-times")
    first = page.locator("button.slot").first
    chosen = first.inner_text()  # "9:00 AM", and the day for a screen reader
    first.click()
    expect(page.get_by_role("heading", name="Please check the details")).to_be_visible()
    expect(page.get_by_text("Bring your glasses.")).to_be_visible()
    expect(page.get_by_text("only by calling the office", exact=False)).to_be_visible()
    axe.check(page)
    fits(page)
    shot(page, "4-confirm")
    page.get_by_role("button", name="Book this time").click()

    expect(page.get_by_text("Your appointment is booked.")).to_be_visible()
    axe.check(page)
    fits(page)
    shot(page, "5-appointment")
    booked = Appointment.objects.get()
    local = booked.starts_at.astimezone(alice.practice.zone)
    assert chosen.startswith(local.strftime("%-I:%M %p"))

    page.get_by_role("link", name="Schedule").first.click()  # the crumb
    upcoming = page.get_by_role("table", name="Upcoming appointments, soonest first")
    expect(upcoming).to_contain_text("Dr. Chen")
    expect(upcoming).to_contain_text(local.strftime("%A, %B %-d, %Y"))
    expect(upcoming).to_contain_text("Booked")
    axe.check(page)
    fits(page)
    shot(page, "6-list")


def test_a_time_taken_meanwhile_is_said_and_fresh_times_offered(
    make_page, axe, alice, patient_a, ada_portal
):
    chen, _, exam = two_doctors(alice)
    page = make_page(360)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    axe.check(page)
    _to_free_times(page, axe)
    page.get_by_role("link", name="Next week").first.click()
    axe.check(page)
    page.locator("button.slot").first.click()
    axe.check(page)
    at = page.locator("input[name=at]").input_value()
    moment = datetime.datetime.strptime(at, "%Y-%m-%dT%H:%MZ").replace(tzinfo=datetime.UTC)
    appointment_book(actor=other_patient(alice), choice=Choice(exam, chen, moment), key="x")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("alert")).to_contain_text("That time was just taken.")
    axe.check(page)
    fits(page)
    shot(page, "7-taken")
    assert not Appointment.objects.filter(patient=patient_a).exists()
    expect(page.locator(f'button.slot[value="{at}"]')).to_have_count(0)
    expect(page.locator("button.slot").first).to_be_visible()


def test_the_patient_reschedules_then_cancels_on_a_phone(
    make_page, axe, alice, patient_a, ada_portal
):
    from clinicportal.accounts.models import PortalAccount
    from clinicportal.core.context import PortalActor
    from clinicportal.scheduling.models import ScheduleSettings
    from tests.schedule_setup import at, weekday_ahead

    chen, _, exam = two_doctors(alice)
    account = PortalAccount.objects.select_related("practice").get(username="ada")
    day = weekday_ahead(alice.practice)
    booked = appointment_book(
        actor=PortalActor(account=account, patient=patient_a),
        choice=Choice(exam, chen, at(alice.practice, day, 9)),
        key="mine",
    )
    page = make_page(360)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    axe.check(page)
    page.goto(f"/p/clinic-x/schedule/{booked.public_id}/")
    axe.check(page)
    page.get_by_role("link", name="Reschedule").click()
    expect(page.get_by_role("heading", name="Reschedule your appointment")).to_be_visible()
    expect(page.get_by_label("Dr. Chen")).to_be_checked()
    axe.check(page)
    fits(page)
    page.get_by_role("button", name="Show free times").click()
    axe.check(page)
    page.get_by_role("link", name="Next week").first.click()
    axe.check(page)
    fits(page)
    page.get_by_role("button", name="10:00 AM").first.click()
    expect(page.get_by_role("heading", name="Please check the new time")).to_be_visible()
    axe.check(page)
    fits(page)
    shot(page, "8-move-confirm")
    page.get_by_role("button", name="Move my appointment").click()
    expect(page.get_by_text("Your appointment was moved to")).to_be_visible()
    axe.check(page)
    booked.refresh_from_db()
    assert booked.starts_at.astimezone(alice.practice.zone).hour == 10

    page.get_by_role("link", name="Cancel appointment").click()
    expect(page.get_by_role("heading", name="Cancel this appointment?")).to_be_visible()
    axe.check(page)
    fits(page)
    shot(page, "9-cancel")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_text("Your appointment was cancelled.")).to_be_visible()
    earlier = page.get_by_role("table", name="Past and cancelled appointments, newest first")
    expect(earlier).to_contain_text("Cancelled")
    axe.check(page)
    fits(page)

    # Another one, after the cut-off: the page says whom to call.
    later = appointment_book(
        actor=PortalActor(account=account, patient=patient_a),
        choice=Choice(exam, chen, at(alice.practice, day, 14)),
        key="later",
    )
    ScheduleSettings.objects.filter(practice=alice.practice).update(cutoff_hours=720)
    page.goto(f"/p/clinic-x/schedule/{later.public_id}/")
    expect(page.get_by_text("Please call the office at (207) 555-0100.")).to_be_visible()
    expect(page.get_by_role("link", name="Reschedule")).to_have_count(0)
    axe.check(page)
    fits(page)
    shot(page, "10-too-late")


def test_with_online_scheduling_off_the_patient_sees_the_office_s_appointment_on_a_phone(
    make_page, axe, alice, patient_a, ada_portal
):
    """The office books (online scheduling off); its email's link opens the appointment."""
    from clinicportal.practices.models import Practice
    from clinicportal.scheduling.models import ScheduleSettings
    from clinicportal.scheduling.services import appointment_create
    from tests.conftest import actor
    from tests.schedule_setup import at, weekday_ahead

    chen, _, exam = two_doctors(alice)
    ScheduleSettings.objects.filter(practice=alice.practice).update(mode="off")
    Practice.objects.filter(pk=alice.practice_id).update(phone="555-0100")
    booked = appointment_create(
        actor=actor(alice),
        patient=patient_a,
        choice=Choice(exam, chen, at(alice.practice, weekday_ahead(alice.practice), 9)),
        key="by-office",
    )
    page = make_page(360)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    axe.check(page)
    page.get_by_role("link", name="SCHEDULE").click()
    expect(page.get_by_text("Appointments are made by the office.")).to_be_visible()
    expect(page.get_by_role("link", name="Book an appointment")).to_have_count(0)
    axe.check(page)
    fits(page)
    shot(page, "10-office-only-list")
    page.get_by_role("table", name="Upcoming appointments, soonest first").get_by_role(
        "link"
    ).click()
    expect(page).to_have_url(f"{page.url.split('/p/')[0]}/p/clinic-x/schedule/{booked.public_id}/")
    expect(page.get_by_text("This appointment cannot be changed online.")).to_be_visible()
    expect(page.get_by_text("Please call the office at 555-0100.")).to_be_visible()
    expect(page.get_by_role("link", name="Cancel appointment")).to_have_count(0)
    axe.check(page)
    fits(page)
    shot(page, "11-office-only-appointment")
