"""The seed's Message Window in a browser: staff answer a patient's message from the chart."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clinicportal.accounts.models import PortalAccount
from clinicportal.core.context import PortalActor
from clinicportal.messaging.models import Message
from clinicportal.messaging.services import Draft, conversation_start, office_send
from clinicportal.patients.models import Patient
from tests.browser.test_office_browser import sign_in
from tests.browser.test_small_screens import browser_roles, fits
from tests.conftest import PDF_BYTES, actor, add_chart_pdf
from tests.secure_messages import hashed

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    """Keep a picture of the whole page, when SCREENSHOT_DIR says where."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def patient_writes(patient: Patient, issue_access, *, requests_response: bool) -> Message:
    issue_access(patient, "ada")
    account = PortalAccount.objects.get(username="ada")
    return conversation_start(
        actor=PortalActor(account=account, patient=patient),
        category="refill",
        subject="Refill of my eye drops",
        draft=Draft(
            body="My latanoprost runs out on Friday.\nCould you send a refill to the pharmacy?",
            uploads=(hashed("pharmacy receipt.pdf", PDF_BYTES + b"receipt"),),
        ),
        requests_response=requests_response,
    )


def test_staff_answer_the_patients_message_from_the_reply_window(
    page, axe, bob, patient_a, issue_access
):
    asked = patient_writes(patient_a, issue_access, requests_response=False)
    sign_in(page, axe)
    page.goto(f"/office/patients/{patient_a.public_id}/")
    axe.check(page)
    shot(page, "desk-patient")
    page.get_by_role("link", name="All messages").click()
    expect(page.get_by_role("heading", name="Messages of Ada Lovelace")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="Refill of my eye drops").click()
    expect(page.get_by_role("heading", name="Refill of my eye drops")).to_be_visible()
    axe.check(page)
    shot(page, "desk-reply-window")

    history = page.get_by_role("table", name="Message history")
    header = [h.strip() for h in history.get_by_role("columnheader").all_inner_texts()]
    assert header[1:] == [
        "Date",
        "Text",
        "Written By",
        "Request Response",
        "Response Date",
        "Notes",
    ]
    expect(history).to_contain_text("My latanoprost runs out on Friday.")
    box = page.get_by_role("checkbox", name=re.compile(r"^Answer the message of"))
    expect(box).not_to_be_checked()  # the patient did not ask for a response
    box.check()
    page.get_by_label("Message to send to patient").fill("Sent to your pharmacy this morning.")
    page.get_by_label("Notes [office use only]").fill("eRx to Walgreens on Main St")
    expect(
        page.get_by_label("Send email to the patient informing them of a response waiting for them")
    ).to_be_checked()
    page.get_by_role("button", name="Send Message").click()
    expect(
        page.get_by_text("Your message was sent. Ada gets an email saying a message is waiting.")
    ).to_be_visible()
    axe.check(page)

    asked.refresh_from_db()
    assert asked.answered_by is not None and asked.response_at is not None
    answered = page.get_by_role("row").filter(has_text="My latanoprost runs out")
    expect(answered).to_contain_text(asked.response_at.astimezone().strftime("%m/%d/%Y"))
    expect(page.get_by_role("row").filter(has_text="Sent to your pharmacy")).to_contain_text(
        "eRx to Walgreens on Main St"
    )
    shot(page, "desk-after-send")

    # "Double clicking on a message will reveal the message log": here, its date is a link.
    answered.get_by_role("link", name=re.compile(r"message log")).click()
    expect(page.get_by_role("heading", name="Message log")).to_be_visible()
    expect(page.get_by_role("table", name="What happened")).to_contain_text("Answered")
    axe.check(page)
    shot(page, "desk-log")


@pytest.mark.parametrize("page", [360], indirect=True)
def test_the_message_pages_fit_a_phone(page, axe, bob, patient_a, issue_access):
    asked = patient_writes(patient_a, issue_access, requests_response=True)
    chart_file = add_chart_pdf(bob, patient_a, "Visual field test results.pdf", "Visual field")
    office_send(
        actor=actor(bob),
        patient=patient_a,
        conversation=asked.conversation,
        draft=Draft(body="Your results are attached; see you in six months."),
        answering=[asked],
        office_notes="Stable. Recall 6 months.",
        chart_files=[chart_file],
    )
    sign_in(page, axe)
    fits(page)
    page.goto(f"/office/patients/{patient_a.public_id}/messages/")
    axe.check(page)
    fits(page)
    shot(page, "phone-list")
    page.get_by_role("link", name="Refill of my eye drops").click()
    axe.check(page)
    fits(page)
    # Stacked on a phone, the history is still a table to a screen reader.
    assert {"table", "row", "columnheader", "rowheader", "cell"} <= browser_roles(page)
    shot(page, "phone-reply-window")
    expect(page.get_by_role("button", name=re.compile("Save to chart"))).to_be_visible()
    page.get_by_role("link", name=re.compile(r"message log")).first.click()
    axe.check(page)
    fits(page)
    shot(page, "phone-log")
    page.go_back()
    page.get_by_role("link", name=re.compile("Messages of Ada Lovelace")).click()
    axe.check(page)
    page.get_by_role("link", name="Send Message").click()
    expect(page.get_by_role("heading", name="Send a message to Ada Lovelace")).to_be_visible()
    axe.check(page)
    fits(page)
    shot(page, "phone-new")
    # A mistake first: the errors are said next to the fields, on a page that still fits.
    page.get_by_role("button", name="Send Message").click()
    expect(page.locator(".form-errors")).to_be_focused()
    expect(page.get_by_text("Please give the message a subject.")).to_be_visible()
    axe.check(page)
    fits(page)
