"""The front desk on a phone: Tasks → Check for Web Messages, open a task, sign it off."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clinicportal.accounts.models import PortalAccount
from clinicportal.core.context import PortalActor
from clinicportal.messaging import services
from clinicportal.messaging.models import Task
from clinicportal.messaging.services import Draft
from tests.browser.test_office_browser import sign_in
from tests.browser.test_small_screens import browser_roles, fits

pytestmark = pytest.mark.browser

LONG_LINE = "Could_you_please_check_whether_my_new_prescription_for_the_eye_drops_was_sent"


def shot(page, name: str) -> None:
    """Keep a picture of the page now, when SCREENSHOT_DIR asks for them."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"tasks-{name}.png"), full_page=True)


def patient_side(patient, issue_access, username: str) -> PortalActor:
    issue_access(patient, username)
    return PortalActor(account=PortalAccount.objects.get(username=username), patient=patient)


def send(who: PortalActor, body: str, **choices) -> None:
    services.conversation_start(
        actor=who,
        category=choices.get("category", "refill"),
        subject=choices.get("subject", "Refill"),
        draft=Draft(body=body),
        requests_response=choices.get("requests_response", False),
    )


@pytest.mark.parametrize("page", [360], indirect=True)
def test_staff_check_for_web_messages_open_one_and_sign_it_off(
    page, axe, bob, patient_a, patient_b, issue_access
):
    ada = patient_side(patient_a, issue_access, "ada")
    bea = patient_side(patient_b, issue_access, "bea")
    send(ada, f"{LONG_LINE}\nThank you, Ada", requests_response=True)
    sign_in(page, axe)
    expect(page.get_by_role("link", name="Tasks 1 open task")).to_be_visible()
    page.get_by_role("link", name="Tasks").click()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    axe.check(page)
    fits(page)
    expect(page.locator("p.count")).to_have_text("1 open task")

    # A message arrives while the list is open; checking reads the list again.
    send(bea, "Can I come in on Tuesday?\nBlaise", category="appointment", subject="Visit")
    page.get_by_role("link", name="Check for Web Messages").click()
    expect(page.get_by_role("row", name="Can I come in on Tuesday?")).to_be_visible()
    expect(page.locator("p.count")).to_have_text("2 open tasks")
    axe.check(page)
    fits(page)
    # Stacked on a phone, the list is still a table to a screen reader.
    assert {"table", "row", "rowheader", "cell"} <= browser_roles(page)
    shot(page, "list-360")

    # Only appointments, newest first: the choices stay in the address and the form.
    page.get_by_label("Category").select_option(label="Appointment")
    page.get_by_label("Order").select_option(label="Newest first")
    page.get_by_role("button", name="Show tasks").click()
    expect(page.get_by_role("row")).to_have_count(2)  # the head's row and Blaise's
    expect(page.get_by_label("Category")).to_have_value("appointment")
    axe.check(page)
    page.get_by_label("Category").select_option(label="All categories")
    page.get_by_role("button", name="Show tasks").click()
    axe.check(page)

    page.get_by_role("link", name=LONG_LINE).click()
    expect(page.get_by_role("heading", name="Refill")).to_be_visible()
    expect(page.get_by_text("Thank you, Ada")).to_be_visible()
    expect(page.get_by_text("Response requested")).to_be_attached()
    axe.check(page)
    fits(page)
    shot(page, "task-360")

    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_text("Signed off: Ada Lovelace")).to_be_visible()
    expect(page.get_by_role("heading", name="Tasks")).to_be_visible()
    expect(page.get_by_role("link", name=LONG_LINE)).to_have_count(0)
    expect(page.get_by_role("link", name="Can I come in on Tuesday?")).to_be_visible()
    expect(page.get_by_role("link", name="Tasks 1 open task")).to_be_visible()
    axe.check(page)
    fits(page)
    task = Task.objects.get(patient=patient_a)
    assert task.signed_off_by_name == "Bob Front Desk" and task.signed_off_at is not None

    # The signed-off list says who; the task can be opened again.
    page.get_by_label("Show", exact=True).select_option(label="Signed off")
    page.get_by_role("button", name="Show tasks").click()
    expect(page.get_by_role("row", name=LONG_LINE)).to_contain_text("Bob Front Desk")
    axe.check(page)
    fits(page)
    shot(page, "signed-off-360")
    page.get_by_role("link", name=LONG_LINE).click()
    expect(page.get_by_text("Signed off by Bob Front Desk at")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Re-open").click()
    expect(page.get_by_text("The task is open again.")).to_be_visible()
    axe.check(page)
    fits(page)
    shot(page, "reopened-360")


def test_the_list_and_the_task_at_full_width(page, axe, bob, patient_a, issue_access):
    ada = patient_side(patient_a, issue_access, "ada")
    for number in range(30):
        send(ada, f"Question {number}", requests_response=number % 3 == 0)
    sign_in(page, axe)
    page.get_by_role("link", name="Tasks").click()
    axe.check(page)
    page.get_by_role("link", name="Next").click()
    expect(page.get_by_role("link", name="Question 29")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="Question 29").click()
    axe.check(page)
    shot(page, "task-wide")
    page.get_by_role("link", name="← Tasks").click()
    expect(page.get_by_role("link", name="Question 29")).to_be_visible()  # the same page again
    axe.check(page)
