"""MESSAGES in a browser on a phone: write with a file, see it sent, read the reply."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clinicportal.messaging.models import Attachment, Conversation, Message
from clinicportal.messaging.services import Draft, office_send
from tests.browser.test_portal_browser import portal_sign_in
from tests.browser.test_small_screens import fits
from tests.conftest import NEW_PASSWORD, PDF_BYTES, actor

pytestmark = pytest.mark.browser

LONG_WORD = "Supercalifragilisticexpialidocious" * 3
LONG_URL = "https://example.com/" + "very-long-path-segment-" * 6 + "end"


@pytest.fixture
def ada_user(practice_x, patient_a, issue_access):
    from clinicportal.accounts.models import PortalAccount
    from clinicportal.accounts.passwords import hash_password

    issue_access(patient_a, "ada")
    PortalAccount.objects.update(password=hash_password(NEW_PASSWORD), password_is_temporary=False)


@pytest.mark.parametrize("page", [360], indirect=True)
def test_a_patient_writes_with_a_file_and_reads_the_reply_on_a_phone(
    page, axe, alice, patient_a, ada_user, tmp_path: Path
):
    scan = tmp_path / "Home blood pressure readings for the last three weeks.pdf"
    scan.write_bytes(PDF_BYTES + b"%" + b"0" * (2 * 1024 * 1024))
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)
    # MESSAGES comes first in the menu.
    menu = page.get_by_role("navigation", name="Portal").get_by_role("link")
    expect(menu.first).to_have_text("MESSAGES")
    menu.first.click()
    expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    expect(page.get_by_text("No messages yet.")).to_be_visible()
    axe.check(page)
    fits(page)

    page.get_by_role("link", name="New message").click()
    expect(page.get_by_role("heading", name="New message")).to_be_visible()
    axe.check(page)
    fits(page)
    # By keyboard, the form's fields come in order, ending at Send.
    page.get_by_label("What is your message about?").focus()
    order = ["id_category"]
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate("() => document.activeElement.id || document.activeElement.textContent")
        )
    assert order == [
        "id_category",
        "id_subject",
        "id_body",
        "id_requests_response",
        "id_attachments",
        "Send",
    ], order

    page.get_by_label("What is your message about?").select_option(label="Clinical question")
    page.get_by_label("Subject").fill("Blood pressure " + LONG_WORD)
    page.get_by_placeholder("Type message here").fill(
        f"Here are my readings.\nSee also {LONG_URL}\n{LONG_WORD}"
    )
    page.get_by_label("I would like a response").check()
    page.get_by_label("Attach Files").set_input_files(str(scan))
    # Slow the upload down like a phone's connection so the progress bar can be seen.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 1_000_000},
    )
    page.get_by_role("button", name="Send").click()
    expect(page.locator("progress#upload-progress")).to_be_visible()
    page.wait_for_function(
        "() => { const v = document.querySelector('#upload-progress').value;"
        " return v > 0 && v < 100; }"
    )
    axe.check(page)
    conversation_path = re.compile(r"/p/clinic-x/messages/[0-9a-f-]{36}/$")
    page.wait_for_url(conversation_path, timeout=30_000)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    expect(page.get_by_text("Your message has been sent.")).to_be_visible()
    expect(page.get_by_role("heading", name="You")).to_be_visible()
    expect(page.get_by_text("Thank you for your message.")).to_be_visible()
    expect(page.get_by_text("Automatic reply")).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile("^Home blood pressure readings"))
    ).to_be_visible()
    axe.check(page)
    fits(page)
    conversation = Conversation.objects.get()
    assert Attachment.objects.get().filename == scan.name

    # The office answers; the menu says so until the patient reads it.
    office_send(
        actor=actor(alice),
        patient=patient_a,
        conversation=conversation,
        draft=Draft(body="Thank you. These look fine; see you at your next visit."),
        answering=[Message.objects.get(writer="patient")],
        office_notes="SECRET-NOTE",
        send_email=False,
    )
    page.get_by_role("link", name="RECORDS").click()
    # Read out as "MESSAGES, 1 unread"; seen as "MESSAGES (1)".
    messages = page.get_by_role("link", name=re.compile(r"^MESSAGES\W+1 unread$"))
    expect(messages).to_have_text(re.compile(r"^MESSAGES.*\(1\)$"))
    axe.check(page)
    messages.click()
    expect(page.get_by_role("row", name=re.compile("Blood pressure"))).to_contain_text("New")
    axe.check(page)
    fits(page)
    page.get_by_role("link", name=re.compile("^Blood pressure")).click()
    expect(page.get_by_text("These look fine")).to_be_visible()
    expect(page.locator(".msg-office .badge.new")).to_have_count(1)
    assert "SECRET-NOTE" not in page.content()
    expect(page.get_by_role("link", name="MESSAGES", exact=True)).to_be_visible()
    axe.check(page)
    fits(page)

    # A reply by keyboard from the link at the top.
    page.get_by_role("link", name="Reply", exact=True).click()
    page.get_by_placeholder("Type message here").fill("Thank you!")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(conversation_path)
    expect(page.get_by_text("Your message has been sent.")).to_be_visible()
    expect(page.locator(".msg-mine")).to_have_count(2)
    axe.check(page)
    fits(page)


@pytest.mark.parametrize("page", [360], indirect=True)
def test_a_refused_file_is_explained_in_place(page, axe, patient_a, ada_user, tmp_path: Path):
    program = tmp_path / "setup.pdf"
    program.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    axe.check(page)
    page.goto("/p/clinic-x/messages/new/")
    axe.check(page)
    page.get_by_label("What is your message about?").select_option(label="Other")
    page.get_by_label("Subject").fill("A form")
    page.get_by_placeholder("Type message here").fill("Here it is.")
    page.get_by_label("Attach Files").set_input_files(str(program))
    page.get_by_role("button", name="Send").click()
    expect(
        page.get_by_text("“setup.pdf” is named .pdf but it is a Windows program")
    ).to_be_visible()
    expect(page.locator(".form-errors")).to_be_focused()
    expect(page.get_by_label("Subject")).to_have_value("A form")
    axe.check(page)
    fits(page)
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("page", [360], indirect=True)
def test_a_message_sent_after_a_sign_out_elsewhere_goes_to_the_sign_in_page(
    page, axe, patient_a, ada_user
):
    from clinicportal.accounts.models import PortalSession

    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    axe.check(page)
    page.goto("/p/clinic-x/messages/new/")
    axe.check(page)
    PortalSession.objects.all().delete()  # "Sign out everywhere", from another device
    page.get_by_label("What is your message about?").select_option(label="Other")
    page.get_by_label("Subject").fill("Hello")
    page.get_by_placeholder("Type message here").fill("Still there?")
    page.get_by_role("button", name="Send").click()
    # The progress bar follows the server there, and does not hang.
    page.wait_for_url(re.compile(r"/p/clinic-x/login/\?next=%2Fp%2Fclinic-x%2Fmessages%2Fnew%2F$"))
    expect(page.get_by_label("Username")).to_be_visible()
    axe.check(page)
    assert not Conversation.objects.exists()
