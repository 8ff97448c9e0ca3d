"""SCHEDULE's whole loop: the patient books on a phone, the worker emails the invitation to a
real SMTP server, and the front desk sees the booking on the day calendar and under Tasks."""

from __future__ import annotations

import pytest
from django.urls import reverse
from icalendar import Calendar
from playwright.sync_api import expect

from clinicportal.scheduling.models import Appointment
from tests.browser.test_office_browser import sign_in as office_sign_in
from tests.browser.test_portal_browser import portal_sign_in
from tests.browser.test_schedule_browser import _to_free_times
from tests.browser.test_small_screens import fits
from tests.conftest import NEW_PASSWORD, run_worker
from tests.test_portal_schedule import two_doctors

pytestmark = pytest.mark.browser


def test_a_booking_reaches_the_patients_mailbox_the_calendar_and_the_tasks(
    make_page, axe, alice, bob, patient_a, ada_portal, email_settings, smtp_server
):
    two_doctors(alice)
    patient = make_page(360)
    portal_sign_in(patient, axe, "ada", NEW_PASSWORD)
    expect(patient.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(patient)
    _to_free_times(patient, axe)
    patient.get_by_role("link", name="Next week").first.click()
    axe.check(patient)
    patient.locator("button.slot").first.click()
    axe.check(patient)
    patient.get_by_role("button", name="Book this time").click()
    expect(patient.get_by_text("Your appointment is booked.")).to_be_visible()
    axe.check(patient)
    fits(patient)
    booked = Appointment.objects.get()

    # The worker sends the invitation; it arrives and parses back into the appointment.
    run_worker()
    (message,) = smtp_server.messages
    (attached,) = list(message.iter_attachments())
    assert attached.get_filename() == "appointment.ics"
    (event,) = Calendar.from_ical(attached.get_content()).walk("VEVENT")
    assert event.decoded("dtstart") == booked.starts_at
    assert event.decoded("dtend") == booked.ends_at
    assert str(event["uid"]).startswith(str(booked.public_id))
    assert "Eye exam" not in message.as_string()  # the kind of visit stays in the portal

    # The front desk sees it on that day's calendar and as a task.
    office = make_page(1280)
    office_sign_in(office, axe, "bob")
    day = booked.starts_at.astimezone(alice.practice.zone).date()
    office.goto(f"{reverse('office:schedule')}?day={day.isoformat()}")
    calendar = office.locator("main")
    expect(calendar).to_contain_text("Lovelace")
    expect(calendar).to_contain_text(
        booked.starts_at.astimezone(alice.practice.zone).strftime("%-I:%M")
    )
    axe.check(office)
    office.get_by_role("link", name="Tasks").first.click()
    expect(office.locator("main")).to_contain_text("Appointment booked")
    axe.check(office)
