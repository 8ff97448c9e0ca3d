"""MESSAGES: the patient's side of secure messages, through the portal's pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from clinicportal.accounts.models import PortalAccount
from clinicportal.audit.models import AuditEvent
from clinicportal.content.models import Blob
from clinicportal.core.context import PortalActor
from clinicportal.messaging import services
from clinicportal.messaging.models import (
    Attachment,
    Conversation,
    Message,
    MessageRead,
    Task,
)
from clinicportal.messaging.services import Draft
from clinicportal.records.models import PortalDocument
from tests.conftest import (
    PDF_BYTES,
    actor,
    add_chart_pdf,
    png_bytes,
)
from tests.test_records import share
from tests.test_upload_failures import BIG_PDF, named
from tests.upload_faults import full_disk, left_in_tmp

PORTAL = "/p/clinic-x/"
LIST = f"{PORTAL}messages/"
NEW = f"{PORTAL}messages/new/"


def conversation_url(conversation: Conversation) -> str:
    return f"{LIST}{conversation.public_id}/"


def send(client: Client, url: str = NEW, **fields: Any):
    """Post the compose form (or, with a conversation's url, the reply form)."""
    data: dict[str, Any] = {"body": "Please refill my drops.", "key": ""}
    if url == NEW:
        data |= {"category": "refill", "subject": "Refill"}
    headers = fields.pop("headers", {})
    data |= fields
    return client.post(url, data, headers=headers)


def field_error(html: str, field: str) -> str:
    """The error shown next to ``field``, or fail."""
    match = re.search(rf'<div class="errors" id="id_{field}_error">(.*?)</div>', html, re.S)
    assert match, f"no error next to {field}"
    return match.group(1)


def nothing_written() -> None:
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert not Task.objects.exists()
    assert not Attachment.objects.exists()
    assert not Blob.objects.exists()
    assert not PortalDocument.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.MESSAGE_SENT).exists()


def ada_actor(patient) -> PortalActor:
    return PortalActor(account=PortalAccount.objects.get(username="ada"), patient=patient)


def start(patient, subject: str = "Refill", body: str = "Please refill my drops.") -> Message:
    """A conversation the patient started (the practice's acknowledgement follows it)."""
    return services.conversation_start(
        actor=ada_actor(patient),
        category="refill",
        subject=subject,
        draft=Draft(body=body),
        requests_response=True,
    )


def office_reply(member, message: Message, body: str = "Sent to your pharmacy.", **kw: Any):
    return services.office_send(
        actor=actor(member),
        patient=message.patient,
        conversation=message.conversation,
        draft=Draft(body=body),
        send_email=False,
        **kw,
    )


# Sending ---------------------------------------------------------------------------------------


def test_a_message_with_two_files_starts_a_conversation_the_practice_acknowledges(
    ada_portal, patient_a
):
    response = send(
        ada_portal,
        requests_response="on",
        attachments=[named("letter.pdf", PDF_BYTES), named("rash.png", png_bytes())],
    )
    conversation = Conversation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == conversation_url(conversation)

    html = ada_portal.get(response["Location"]).content.decode()
    assert "Your message has been sent." in html
    history = list(conversation.messages.order_by("created_at", "id"))
    assert [m.writer for m in history] == ["patient", "automatic"]
    assert history[0].requests_response and history[0].author_is_patient
    assert "Please refill my drops." in html
    assert "Thank you for your message. We have received it" in html
    assert "Automatic reply" in html
    assert Task.objects.get().message == history[0]

    files = Attachment.objects.filter(message=history[0])
    assert sorted(f.filename for f in files) == ["letter.pdf", "rash.png"]
    for attachment in files:
        assert f'href="{LIST}files/{attachment.public_id}/view"' in html
        assert f'href="{LIST}files/{attachment.public_id}/download"' in html
    # The same files are on RECORDS, "Sent by the patient".
    documents = PortalDocument.objects.filter(patient=patient_a, source="patient_upload")
    assert sorted(d.filename for d in documents) == ["letter.pdf", "rash.png"]
    assert {f.portal_document_id for f in files} == {d.pk for d in documents}
    records = ada_portal.get(f"{PORTAL}records/").context["page"].object_list
    assert {d.pk for d in records} >= {d.pk for d in documents}


def test_a_file_the_patient_sent_is_on_records_but_not_new_to_them(
    ada_portal, bob, bob_client, patient_a
):
    send(ada_portal, subject="Readings", attachments=[named("readings.pdf", PDF_BYTES)])
    exam = add_chart_pdf(bob, patient_a, data=PDF_BYTES + b"exam")
    share(bob_client, patient_a, exam, description="Exam report")
    response = ada_portal.get(f"{PORTAL}records/")
    rows = {d.description: d for d in response.context["page"].object_list}
    assert set(rows) == {"Readings", "Exam report"}
    # The patient's side sent it: only what the office shared is new to them.
    assert response.context["opened"] == {rows["Readings"].public_id}
    assert response.content.decode().count('<span class="badge new">New</span>') == 1
    # And it says where it came from.
    assert response.content.decode().count('<span class="badge">Sent with a message</span>') == 1


def test_the_progress_bar_gets_the_conversations_address(ada_portal):
    response = send(
        ada_portal,
        attachments=[named("a.pdf", PDF_BYTES)],
        headers={"X-Upload-Progress": "1"},
    )
    assert response.status_code == 200
    assert response.json() == {"location": conversation_url(Conversation.objects.get())}
    # The message waits for the page the script goes to.
    assert (
        "Your message has been sent."
        in ada_portal.get(response.json()["location"]).content.decode()
    )


def test_the_compose_page_says_911_and_the_practices_reply_time_before_send(ada_portal, alice):
    services.messaging_settings_save(
        actor=actor(alice),
        response_time="within one business day",
        names={"refill": "Eyedrop refill"},
        off=["billing"],
    )
    response = ada_portal.get(NEW)
    html = response.content.decode()
    send_at = html.index(">Send</button>")
    assert (
        -1 < html.find("This is not for emergencies. If you have an emergency, call 911.") < send_at
    )
    assert -1 < html.find("We reply within one business day.") < send_at
    assert '<option value="refill">Eyedrop refill</option>' in html
    assert 'value="billing"' not in html
    assert 'placeholder="Type message here"' in html
    assert "I would like a response" in html and "Attach Files" in html
    assert 'type="file" name="attachments" multiple' in html
    assert "up to 50.0\xa0MB each. You can choose several files at once." in html
    assert response.context["form"]["key"].value()  # a one-time key, new for each form


@pytest.mark.parametrize("body", ["", "  \r\n  "])
def test_an_empty_message_is_refused_next_to_the_body_and_nothing_is_written(ada_portal, body):
    response = send(ada_portal, body=body, subject="Still here")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Please type your message." in field_error(html, "body")
    assert 'value="Still here"' in html  # what was typed stays
    nothing_written()


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("tool.exe", b"MZ\x90\x00" + b"\x00" * 100, "not a file type we accept"),
        ("photo.jpg", PDF_BYTES, "is named .jpg but it is a PDF"),
    ],
)
def test_a_refused_file_is_explained_next_to_the_files_and_nothing_is_written(
    ada_portal, settings, name, data, says
):
    response = send(ada_portal, attachments=[named("fine.pdf", PDF_BYTES), named(name, data)])
    assert response.status_code == 400
    error = field_error(response.content.decode(), "attachments")
    assert says in error and name in error
    nothing_written()
    assert list((settings.CLINICPORTAL_STORAGE_DIR / "blobs").rglob("*.*")) == []


def test_a_file_over_the_limit_is_refused(ada_portal, settings):
    settings.CLINICPORTAL_UPLOAD_MAX_BYTES = 1000
    response = send(ada_portal, attachments=[named("big.pdf", PDF_BYTES + b"0" * 2000)])
    assert response.status_code == 400
    assert "larger than the 1000" in field_error(response.content.decode(), "attachments")
    nothing_written()


def test_a_category_the_practice_switched_off_is_refused(ada_portal, alice):
    services.messaging_settings_save(
        actor=actor(alice), response_time="within a day", names={}, off=["refill"]
    )
    response = send(ada_portal)
    assert response.status_code == 400
    error = field_error(response.content.decode(), "category")
    assert "Please choose what your message is about." in error
    nothing_written()


def test_a_full_disk_says_the_message_was_not_sent_and_keeps_what_was_typed(
    ada_portal, monkeypatch
):
    full_disk(monkeypatch, room=100 * 1024)
    response = send(ada_portal, body="Here is my scan.", attachments=[named("scan.pdf", BIG_PDF)])
    html = response.content.decode()
    assert response.status_code == 503
    assert "The upload did not finish: the server’s file storage is full." in html
    assert "Here is my scan." in html and 'value="Refill"' in html
    assert left_in_tmp() == []
    nothing_written()


def test_the_same_form_posted_twice_sends_one_message(ada_portal):
    first = send(ada_portal, key="one-time-key-123", attachments=[named("a.pdf", PDF_BYTES)])
    again = send(ada_portal, key="one-time-key-123", attachments=[named("a.pdf", PDF_BYTES)])
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert Conversation.objects.count() == 1
    assert Message.objects.filter(writer="patient").count() == 1
    assert Task.objects.count() == 1 and Attachment.objects.count() == 1
    # A reply as well.
    url = first["Location"]
    one = send(ada_portal, url, body="And my glasses.", key="reply-key-456")
    two = send(ada_portal, url, body="And my glasses.", key="reply-key-456")
    assert one["Location"] == two["Location"] == url
    assert Message.objects.filter(writer="patient").count() == 2


def test_a_reply_goes_into_the_conversation_with_its_task(ada_portal, alice, patient_a):
    asked = start(patient_a)
    office_reply(alice, asked)
    response = send(
        ada_portal, conversation_url(asked.conversation), body="Thanks!", requests_response=""
    )
    assert response.status_code == 302
    assert response["Location"] == conversation_url(asked.conversation)
    latest = asked.conversation.messages.latest("created_at", "id")
    assert latest.body == "Thanks!" and latest.from_patient and not latest.requests_response
    assert Task.objects.filter(message=latest).exists()
    html = ada_portal.get(response["Location"]).content.decode()
    assert "Your message has been sent." in html and "Thanks!" in html


def test_an_empty_reply_is_refused_and_writes_nothing_not_even_receipts(
    ada_portal, alice, patient_a
):
    asked = start(patient_a)
    office_reply(alice, asked)
    messages_before, events_before = Message.objects.count(), AuditEvent.objects.count()
    reads_before = MessageRead.objects.count()  # the acknowledgement's, read as it was sent
    response = send(ada_portal, conversation_url(asked.conversation), body=" ")
    assert response.status_code == 400
    assert "Please type your message." in field_error(response.content.decode(), "body")
    assert Message.objects.count() == messages_before
    assert AuditEvent.objects.count() == events_before
    assert MessageRead.objects.count() == reads_before
