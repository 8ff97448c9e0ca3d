"""The old system's whole loop of a secure message, in two browsers and a real mail server.

The patient writes with a file and asks for a response; the front desk checks for web messages,
signs the task off and answers it with a note for the office only; the worker emails the patient
that a message waits; the patient signs in again and reads the answer. The note is on none of
the patient's pages and not in the email, and the email says nothing of what was written.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.utils import dateformat, timezone
from playwright.sync_api import expect

from clinicportal.messaging.models import Message, Task
from tests.browser.test_office_browser import sign_in as office_sign_in
from tests.browser.test_portal_browser import portal_sign_in
from tests.browser.test_small_screens import fits
from tests.conftest import NEW_PASSWORD, PDF_BYTES, run_worker

pytestmark = pytest.mark.browser

CATEGORY = "Clinical question"
SUBJECT = "Pressure readings after the new drops"
FIRST_LINE = "My right eye has felt sore since Monday."
BODY = f"{FIRST_LINE}\nI attached the pressure readings I took at home."
FILENAME = "Home eye pressure readings.pdf"
REPLY = "Your readings look fine. Keep using the drops twice a day and call us if it gets worse."
NOTE = "NOTE-ONLY-FOR-OFFICE-1234"


@pytest.fixture
def ada_user(practice_x, patient_a, issue_access):
    from clinicportal.accounts.models import PortalAccount
    from clinicportal.accounts.passwords import hash_password

    issue_access(patient_a, "ada")
    PortalAccount.objects.update(password=hash_password(NEW_PASSWORD), password_is_temporary=False)


def shot(page, name: str) -> None:
    """Keep a picture of the whole page, when SCREENSHOT_DIR says where."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"loop-{name}.png"), full_page=True)


class PatientPages:
    """What the patient's browser showed: each page is checked, fits the phone, and is kept."""

    def __init__(self, page, axe) -> None:
        self.page = page
        self.axe = axe
        self.seen: dict[str, str] = {}

    def check(self, name: str) -> None:
        self.axe.check(self.page)
        fits(self.page)
        self.seen[f"{name} {self.page.url}"] = self.page.content()
        shot(self.page, f"patient-{name}")


def local(when) -> str:
    return dateformat.format(timezone.localtime(when), "m/d/Y g:i A")


@pytest.mark.parametrize("page", [360], indirect=True)
def test_the_whole_loop_of_a_message_with_a_file_a_note_and_an_email(
    page,
    make_page,
    axe,
    settings,
    live_server,
    bob,
    patient_a,
    ada_user,
    email_settings,
    smtp_server,
    tmp_path: Path,
):
    # The email's link leads to this server, so the patient can follow it.
    settings.CLINICPORTAL_BASE_URL = live_server.url
    readings = tmp_path / FILENAME
    readings.write_bytes(PDF_BYTES)
    patient = PatientPages(page, axe)

    # 1. The patient writes, with a file, and asks for a response. --------------------------
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    patient.check("records-before")
    menu = page.get_by_role("navigation", name="Portal").get_by_role("link")
    expect(menu.first).to_have_text("MESSAGES")
    menu.first.click()
    expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    patient.check("messages-empty")
    page.get_by_role("link", name="New message").click()
    expect(page.get_by_role("heading", name="New message")).to_be_visible()
    patient.check("new")
    page.get_by_label("What is your message about?").select_option(label=CATEGORY)
    page.get_by_label("Subject").fill(SUBJECT)
    page.get_by_placeholder("Type message here").fill(BODY)
    page.get_by_label("I would like a response").check()
    page.get_by_label("Attach Files").set_input_files(str(readings))
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/p/clinic-x/messages/[0-9a-f-]{36}/$"))
    expect(page.get_by_text("Your message has been sent.")).to_be_visible()
    expect(page.get_by_role("heading", name=SUBJECT)).to_be_visible()
    mine = page.locator(".msg-mine")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text(FIRST_LINE)
    expect(mine).to_contain_text("You asked for a response.")
    expect(mine.get_by_role("link", name=f"{FILENAME} (opens in a new tab)")).to_be_visible()
    acknowledgement = page.locator(".msg-office")
    expect(acknowledgement).to_have_count(1)
    expect(acknowledgement).to_contain_text("Automatic reply")
    expect(acknowledgement).to_contain_text("Thank you for your message.")
    patient.check("conversation-sent")
    page.get_by_role("button", name="Log Out").click()
    expect(page.get_by_label("Username")).to_be_visible()
    patient.check("signed-out")
    asked = Message.objects.get(writer=Message.Writer.PATIENT)
    assert asked.requests_response and asked.attachments.get().filename == FILENAME

    # 2. The front desk checks for web messages, signs the task off and answers it. ---------
    staff = make_page()
    office_sign_in(staff, axe)
    staff.get_by_role("link", name="Tasks").click()
    expect(staff.get_by_role("heading", name="Tasks")).to_be_visible()
    axe.check(staff)
    staff.get_by_role("link", name="Check for Web Messages").click()
    expect(staff.locator("p.count")).to_have_text("1 open task")
    row = staff.get_by_role("row").filter(has_text=FIRST_LINE)
    expect(row).to_contain_text("Lovelace, Ada")
    expect(row).to_contain_text(CATEGORY)
    expect(row.locator(".badge.req")).to_contain_text("REQ")
    expect(row).not_to_contain_text("I attached")  # the first line only
    axe.check(staff)
    shot(staff, "staff-tasks")
    row.get_by_role("link", name=FIRST_LINE).click()
    expect(staff.get_by_role("heading", name=SUBJECT)).to_be_visible()
    expect(staff.locator(".task-body")).to_contain_text("I attached the pressure readings")
    expect(staff.locator(".attachment-names").get_by_role("link")).to_have_text(
        f"{FILENAME} (opens in a new tab)"
    )
    expect(staff.get_by_text("Response requested")).to_be_attached()
    axe.check(staff)
    shot(staff, "staff-task")
    staff.get_by_role("button", name="Sign off").click()
    expect(staff.get_by_text("Signed off: Ada Lovelace")).to_be_visible()
    expect(staff.get_by_role("link", name=FIRST_LINE)).to_have_count(0)
    expect(staff.locator("p.count")).to_have_text("0 open tasks")
    axe.check(staff)
    task = Task.objects.get()
    assert not task.is_open and task.signed_off_by_name == "Bob Front Desk"

    # Signed off, the task is still there to answer: its Reply opens the reply window.
    staff.get_by_label("Show", exact=True).select_option(label="Signed off")
    staff.get_by_role("button", name="Show tasks").click()
    axe.check(staff)
    staff.get_by_role("link", name=FIRST_LINE).click()
    expect(staff.get_by_text("Signed off by Bob Front Desk at")).to_be_visible()
    axe.check(staff)
    staff.get_by_role("link", name="Reply", exact=True).click()
    expect(staff.get_by_role("heading", name=SUBJECT)).to_be_visible()
    axe.check(staff)
    history = staff.get_by_role("table", name="Message history")
    theirs = history.get_by_role("row").filter(has_text=FIRST_LINE)
    expect(theirs).to_contain_text(FILENAME)
    expect(theirs).to_contain_text("REQ")
    expect(theirs).to_contain_text("Signed off by Bob Front Desk")
    box = theirs.get_by_role("checkbox", name=re.compile(r"^Answer the message of"))
    expect(box).to_be_checked()  # asked for a response and not answered yet
    box.uncheck()
    box.check()  # as the seed says: check the message, then type the answer
    staff.get_by_label("Message to send to patient").fill(REPLY)
    staff.get_by_label("Notes [office use only]").fill(NOTE)
    email_box = staff.get_by_label(
        "Send email to the patient informing them of a response waiting for them"
    )
    expect(email_box).to_be_checked()
    shot(staff, "staff-reply-window-before")
    staff.get_by_role("button", name="Send Message").click()
    expect(
        staff.get_by_text("Your message was sent. Ada gets an email saying a message is waiting.")
    ).to_be_visible()
    axe.check(staff)
    asked.refresh_from_db()
    answer = Message.objects.get(writer=Message.Writer.OFFICE)
    assert asked.answered_by == answer and asked.response_at == answer.created_at
    assert answer.office_notes == NOTE and answer.body == REPLY
    history = staff.get_by_role("table", name="Message history")
    theirs = history.get_by_role("row").filter(has_text=FIRST_LINE)
    expect(theirs.locator("td[data-label='Response Date']")).to_have_text(local(asked.response_at))
    ours = history.get_by_role("row").filter(has_text=REPLY)
    expect(ours.locator("td[data-label='Notes']")).to_have_text(NOTE)
    expect(ours).to_contain_text("Email: Queued")
    shot(staff, "staff-reply-window-after")

    # 3. The worker sends the email: that a message waits, and nothing of it. ---------------
    run_worker()
    assert len(smtp_server.messages) == 1
    email = smtp_server.messages[0]
    assert email["To"] == "ada@example.com"
    portal_url = f"{live_server.url}/p/clinic-x/"
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    for body in (text, html):
        assert "You have a secure message waiting for you at" in body
        assert portal_url in body
        assert "Please log in to view this message." in body
    whole = email.as_string()
    for secret in (NOTE, REPLY, "Your readings look fine", SUBJECT, CATEGORY, FIRST_LINE, FILENAME):
        for part in (whole, text, html):
            assert secret not in part, f"the email gives away {secret!r}"
    staff.reload()
    expect(
        staff.get_by_role("row").filter(has_text=REPLY).get_by_text("Email: Sent")
    ).to_be_visible()
    axe.check(staff)

    # 4. The patient follows the email's link, signs in and reads the answer. ---------------
    link = re.search(r"https?://\S+?/p/clinic-x/", text)
    assert link is not None and link.group(0) == portal_url
    page.goto(link.group(0))
    expect(page.get_by_label("Username")).to_be_visible()
    patient.check("login-from-email")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    messages = page.get_by_role("link", name=re.compile(r"^MESSAGES\W+1 unread$"))
    expect(messages).to_have_text(re.compile(r"^MESSAGES.*\(1\)$"))
    patient.check("landing-unread")
    messages.click()
    expect(page.get_by_role("row", name=re.compile(SUBJECT))).to_contain_text("New")
    patient.check("messages-unread")
    page.get_by_role("link", name=SUBJECT).click()
    expect(page.get_by_role("heading", name=SUBJECT)).to_be_visible()
    office = page.locator(".msg-office").filter(has_text=REPLY)
    expect(office).to_be_visible()
    expect(office.get_by_text("New", exact=True)).to_be_visible()
    expect(office.get_by_role("heading")).to_have_text(re.compile(r"^Clinic X Eye Care"))
    expect(
        page.locator(".msg-mine").get_by_role("link", name=f"{FILENAME} (opens in a new tab)")
    ).to_be_visible()
    patient.check("conversation-read")
    expect(page.get_by_role("link", name="MESSAGES", exact=True)).to_be_visible()

    page.get_by_role("link", name="LOGS").click()
    expect(page.get_by_role("heading", name="Portal access log")).to_be_visible()
    log = page.get_by_role("table")
    # The answer read now (the practice's acknowledgement was read as it was sent).
    expect(
        log.get_by_role("row", name=f"Ada Lovelace read the message “{REPLY[:79]}…”")
    ).to_have_count(1)
    sent_row = log.get_by_role("row", name=f"Ada Lovelace sent a message: “{SUBJECT}”")
    expect(sent_row).to_have_count(1)
    patient.check("logs")

    page.get_by_role("link", name="RECORDS").click()
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    # The file the patient sent is among the records too, described by the message's subject.
    sent = page.get_by_role("row").filter(has_text=SUBJECT)
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text("PDF")
    # The patient sent it: it is not news to them.
    expect(sent.get_by_text("New", exact=True)).to_have_count(0)
    patient.check("records-after")

    # The note is on none of the patient's pages, which did show the answer.
    assert len(patient.seen) >= 10
    for name, content in patient.seen.items():
        assert NOTE not in content, f"the office's note is on the patient's page {name}"
    assert any(REPLY in content for content in patient.seen.values())
