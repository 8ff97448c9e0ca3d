"""MESSAGES: the patient's side reading secure messages, and the pages' queries."""

from __future__ import annotations

import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinicportal.accounts.models import PortalAccount
from clinicportal.audit.models import AuditEvent
from clinicportal.core.context import PortalActor
from clinicportal.messaging import services
from clinicportal.messaging.models import (
    Attachment,
    Conversation,
    Message,
    MessageRead,
)
from clinicportal.messaging.services import Draft
from tests.conftest import (
    GUARDIAN_PASSWORD,
    PDF_BYTES,
    actor,
    add_chart_pdf,
    add_guardian,
    portal_login,
)
from tests.test_portal_messages import (
    LIST,
    NEW,
    PORTAL,
    conversation_url,
    office_reply,
    send,
    start,
)
from tests.test_upload_failures import named

# Reading ---------------------------------------------------------------------------------------


def menu_link(html: str) -> str:
    match = re.search(r'<a href="/p/clinic-x/messages/"[^>]*>(.*?)</a>', html, re.S)
    assert match, "no MESSAGES in the menu"
    return match.group(1)


def test_opening_a_conversation_reads_the_offices_messages_once(ada_portal, alice, patient_a):
    asked = start(patient_a)  # the acknowledgement is read as it is sent
    office_reply(alice, asked)
    office_reply(alice, asked)
    link = menu_link(ada_portal.get(f"{PORTAL}records/").content.decode())
    assert "(2)" in link and ", 2 unread" in link

    listed = ada_portal.get(LIST).content.decode()
    assert "2 unread" in listed

    html = ada_portal.get(conversation_url(asked.conversation)).content.decode()
    assert html.count('<span class="badge new">New</span>') == 2
    assert MessageRead.objects.count() == 3
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MESSAGE_READ).count() == 2
    assert "unread" not in menu_link(html)  # this page already counts them as read

    again = ada_portal.get(conversation_url(asked.conversation)).content.decode()
    assert 'class="badge new"' not in again
    assert MessageRead.objects.count() == 3
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MESSAGE_READ).count() == 2
    assert "unread" not in ada_portal.get(LIST).content.decode()
    logs = ada_portal.get(f"{PORTAL}logs/").content.decode()
    # Each reply by its first words: which message was read, not only that one was.
    assert logs.count("Ada Lovelace read the message “Sent to your pharmacy.”") == 2


def test_the_office_notes_are_on_no_portal_page(ada_portal, alice, patient_a):
    asked = start(patient_a)
    chart_file = add_chart_pdf(alice, patient_a)
    reply = office_reply(
        alice, asked, answering=[asked], office_notes="SECRET-NOTE", chart_files=[chart_file]
    )
    services.conversation_office_view(actor=actor(alice), conversation=asked.conversation)
    attachment = reply.attachments.get()
    pages = [
        LIST,
        conversation_url(asked.conversation),
        f"{LIST}files/{attachment.public_id}/view",
        f"{PORTAL}logs/",
        f"{PORTAL}records/",
        NEW,
    ]
    for path in pages:
        response = ada_portal.get(path)
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"SECRET-NOTE" not in body, path


def test_what_the_patients_side_typed_is_shown_as_text(ada_portal, patient_a):
    body = (
        "<script>alert(1)</script>\n<img src=x onerror=alert(2)>\n"
        "My results: https://example.com/a?b=1&c=2."
    )
    start(patient_a, subject="<b>Results</b>", body=body)
    html = ada_portal.get(conversation_url(Conversation.objects.get())).content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>&lt;img src=x onerror=alert(2)&gt;" in html
    assert (
        '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank">'
    ) in html
    assert "&lt;b&gt;Results&lt;/b&gt;" in html and "<b>Results</b>" not in html
    listed = ada_portal.get(LIST).content.decode()
    assert "&lt;b&gt;Results&lt;/b&gt;" in listed and "<b>Results</b>" not in listed


def test_an_authorized_user_writes_as_themselves(ada_portal, alice, practice_x, patient_a):
    add_guardian(alice, patient_a, display_name="Mary Lovelace")
    mary = Client()
    portal_login(mary, practice_x, "mary", GUARDIAN_PASSWORD)
    response = send(mary, body="Ada needs new drops.")
    assert response.status_code == 302
    message = Message.objects.get(writer="patient")
    # The office sees who wrote it.
    assert message.author_name == "Mary Lovelace" and not message.author_is_patient
    theirs = mary.get(response["Location"]).content.decode()
    assert re.search(r'<h2 class="msg-writer">You\b', theirs)
    adas = ada_portal.get(response["Location"]).content.decode()
    assert re.search(r'<h2 class="msg-writer">Mary Lovelace\b', adas)
    logs = ada_portal.get(f"{PORTAL}logs/").content.decode()
    assert "Mary Lovelace sent a message: “Refill”" in logs


def test_the_files_of_a_message_open_and_each_opening_is_in_logs(ada_portal, patient_a):
    send(ada_portal, attachments=[named("letter.pdf", PDF_BYTES)])
    attachment = Attachment.objects.get()
    shown = ada_portal.get(f"{LIST}files/{attachment.public_id}/view")
    assert shown.status_code == 200 and shown["Content-Type"] == "application/pdf"
    assert shown["Content-Disposition"].startswith("inline")
    assert b"".join(shown.streaming_content) == PDF_BYTES
    saved = ada_portal.get(f"{LIST}files/{attachment.public_id}/download")
    assert saved["Content-Disposition"].startswith("attachment")
    logs = ada_portal.get(f"{PORTAL}logs/").content.decode()
    for text in (
        "Ada Lovelace sent a message: “Refill”",
        "Ada Lovelace viewed “letter.pdf”, sent with a message",
        "Ada Lovelace downloaded “letter.pdf”, sent with a message",
    ):
        assert text in logs


def test_logs_say_when_the_office_opened_the_messages(ada_portal, alice, patient_a):
    asked = start(patient_a)
    services.conversation_office_view(actor=actor(alice), conversation=asked.conversation)
    logs = ada_portal.get(f"{PORTAL}logs/").content.decode()
    assert "The office opened your messages: “Refill”" in logs


def test_another_patients_conversation_and_files_are_not_found(
    ada_portal, alice, patient_b, issue_access
):
    username, _ = issue_access(patient_b, "bea")
    bea = PortalActor(account=PortalAccount.objects.get(username=username), patient=patient_b)
    theirs = services.conversation_start(
        actor=bea,
        category="other",
        subject="Private",
        draft=Draft(body="Mine.", uploads=()),
        requests_response=False,
    )
    chart_file = add_chart_pdf(alice, patient_b)
    reply = office_reply(alice, theirs, chart_files=[chart_file])
    before = (Message.objects.count(), MessageRead.objects.count(), AuditEvent.objects.count())
    assert ada_portal.get(conversation_url(theirs.conversation)).status_code == 404
    assert send(ada_portal, conversation_url(theirs.conversation)).status_code == 404
    for how in ("view", "download"):
        path = f"{LIST}files/{reply.attachments.get().public_id}/{how}"
        assert ada_portal.get(path).status_code == 404
    assert "Private" not in ada_portal.get(LIST).content.decode()
    after = (Message.objects.count(), MessageRead.objects.count(), AuditEvent.objects.count())
    assert after == before


def test_the_list_is_newest_first_with_the_practices_category_names(ada_portal, alice, patient_a):
    services.messaging_settings_save(
        actor=actor(alice), response_time="soon", names={"refill": "Eyedrop refill"}, off=[]
    )
    older = start(patient_a, subject="Older")
    start(patient_a, subject="Newer")
    office_reply(alice, older, body="An answer brings it to the top.")
    html = ada_portal.get(LIST).content.decode()
    assert html.index("Older") < html.index("Newer")
    assert "Eyedrop refill" in html
    assert "New message" in html


def test_no_conversations_yet_says_so(ada_portal):
    html = ada_portal.get(LIST).content.decode()
    assert "No messages yet." in html
    assert "unread" not in menu_link(html)


# Queries ---------------------------------------------------------------------------------------


def queries_of(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_the_list_reads_the_same_few_queries_whatever_the_number(ada_portal, alice, patient_a):
    for n in range(3):
        office_reply(alice, start(patient_a, subject=f"Question {n}"))
    ada_portal.get(LIST)  # shows (and so removes) the sign-in's welcome message
    few = queries_of(ada_portal, LIST)
    for n in range(3, 30):
        office_reply(alice, start(patient_a, subject=f"Question {n}"))
    many = queries_of(ada_portal, LIST)
    assert few == many
    assert "Question 29" in ada_portal.get(LIST).content.decode()


def test_a_conversation_reads_the_same_few_queries_whatever_its_length(
    ada_portal, alice, patient_a
):
    asked = start(patient_a)
    chart_file = add_chart_pdf(alice, patient_a)
    office_reply(alice, asked, chart_files=[chart_file])
    url = conversation_url(asked.conversation)
    ada_portal.get(url)  # reads them (and shows the welcome message)
    few = queries_of(ada_portal, url)
    for n in range(27):
        office_reply(alice, asked, body=f"Note {n}", chart_files=[chart_file])
    ada_portal.get(url)  # reads the new ones
    many = queries_of(ada_portal, url)
    assert few == many


def test_a_file_asks_no_query_of_its_own_for_the_menus_unread_count(ada_portal, patient_a):
    send(ada_portal, attachments=[named("letter.pdf", PDF_BYTES)])
    attachment = Attachment.objects.get()
    with CaptureQueriesContext(connection) as queries:
        ada_portal.get(f"{LIST}files/{attachment.public_id}/view")
    counting = [q["sql"] for q in queries.captured_queries if "messaging_messageread" in q["sql"]]
    # Only the sign-in's own read, which counts them for every page in the same query.
    assert len(counting) == 1
    assert "accounts_portalsession" in counting[0]
