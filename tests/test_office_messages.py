"""The patient's Messages in the chart: the list, Send Message and the reply window.

The seed's Message Window: the history (checkbox | Date | Text | Written By | Request Response
| Response Date | Notes), the message to send, the office's notes and the email box. Checking
a message and sending answers it; the email says only that a message is waiting.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from clinicportal.audit.models import AuditEvent
from clinicportal.core.context import PortalActor
from clinicportal.messaging import services
from clinicportal.messaging.models import Attachment, Conversation, Message, Task
from clinicportal.messaging.selectors import portal_attachment, portal_messages
from clinicportal.messaging.services import Draft
from clinicportal.notifications.models import OutboxEmail
from clinicportal.patients.models import ChartFile, Patient
from tests.conftest import PDF_BYTES, actor, add_chart_pdf, add_patient, png_bytes
from tests.secure_messages import (
    WAITING,
    conversation_url,
    count_queries,
    hashed,
    input_tag,
    office_messages,
    reply,
    start,
    written,
)

# The reply window ----------------------------------------------------------------------------


def test_the_reply_window_shows_the_seeds_columns_and_the_history(bob_client, ada):
    asked = start(ada)
    response = bob_client.get(conversation_url(asked))
    assert response.status_code == 200
    page = response.content.decode()
    for column in ("Date", "Text", "Written By", "Request Response", "Response Date", "Notes"):
        assert f'<th scope="col">{column}</th>' in page
    assert "I would like a refill of my glaucoma drops." in page
    assert "Thank you for your message." in page  # the acknowledgement
    assert ">Patient" in page and "Automatic" in page and "REQ</abbr>" in page
    assert "Task open" in page
    # The patient's message asked for a response and has none: its box starts checked.
    box = input_tag(page, "answering", str(asked.public_id))
    assert 'form="reply-form"' in box and " checked" in box
    assert page.count('name="answering"') == 1  # only the patient's messages can be answered
    assert (
        f'href="{reverse("office:message_log", args=[asked.patient.public_id, asked.public_id])}"'
        in page
    )
    assert "Message to send to patient" in page and "Notes [office use only]" in page
    # The boxes to check are in the history, which comes after this help, not before it.
    assert "check the message(s) below before Sending Message" in page
    assert "Send email to the patient informing them of a response waiting for them" in page
    assert " checked" in input_tag(page, "send_email")
    # Opening the patient's messages is recorded, as opening their chart is.
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.MESSAGES_OFFICE_VIEWED, patient=asked.patient
    ).exists()


def test_an_authorized_user_is_named_and_staff_are_named_under_office(
    bob_client, bob, alice, patient_a
):
    from tests.conftest import add_guardian

    issued = add_guardian(alice, patient_a, display_name="Mary Lovelace")
    asked = start(PortalActor(account=issued.account, patient=patient_a))
    services.office_send(
        actor=actor(bob),
        patient=patient_a,
        conversation=asked.conversation,
        draft=Draft(body="Noted."),
        send_email=False,
    )
    page = bob_client.get(conversation_url(asked)).content.decode()
    assert "Mary Lovelace" in page and "(authorized user)" in page
    assert "Office" in page and "Bob Front Desk" in page


def test_checking_a_message_and_replying_answers_it_and_queues_a_bare_email(bob_client, ada):
    asked = start(ada)
    response = reply(bob_client, asked, notes="eRx sent to Walgreens, 90 days")
    assert response.status_code == 302
    assert response["Location"] == conversation_url(asked)
    sent = Message.objects.get(writer=Message.Writer.OFFICE)
    asked.refresh_from_db()
    assert asked.answered_by_id == sent.pk and asked.response_at == sent.created_at
    assert sent.office_notes == "eRx sent to Walgreens, 90 days"
    assert sent.author_name == "Bob Front Desk"
    email = OutboxEmail.objects.get(kind="message_waiting")
    assert sent.email_id == email.pk and email.to == "ada@example.com"
    assert WAITING in email.body_text
    for text in (email.subject, email.body_text, email.body_html):
        for secret in ("Refill", "refill", "glaucoma", "pharmacy", "Walgreens", "Prescription"):
            assert secret not in text, (secret, text)
    page = bob_client.get(response["Location"])
    shown = page.content.decode()
    assert "Your message was sent. Ada gets an email saying a message is waiting." in shown
    assert timezone.localtime(sent.created_at).strftime("%m/%d/%Y") in shown
    assert "eRx sent to Walgreens, 90 days" in shown  # the notes column
    assert " checked" not in input_tag(shown, "answering", str(asked.public_id))  # answered now


def test_a_reply_without_the_box_sends_no_email(bob_client, ada):
    asked = start(ada)
    assert reply(bob_client, asked, email=False).status_code == 302
    assert not OutboxEmail.objects.filter(kind="message_waiting").exists()
    assert Message.objects.get(writer=Message.Writer.OFFICE).email_id is None


def test_a_reply_may_answer_nothing(bob_client, ada):
    asked = start(ada)
    assert reply(bob_client, asked, answering=()).status_code == 302
    asked.refresh_from_db()
    assert asked.response_at is None and office_messages() == 1


# Refusals: out of reach, or bad input ---------------------------------------------------------


def test_checking_another_patients_message_is_not_found_and_writes_nothing(bob_client, ada, bea):
    asked, theirs = start(ada), start(bea)
    before = written()
    assert reply(bob_client, asked, answering=(asked, theirs)).status_code == 404
    assert reply(bob_client, asked, answering=(theirs,)).status_code == 404
    assert written() == before
    theirs.refresh_from_db()
    assert theirs.response_at is None


@pytest.mark.parametrize("forged", [str(uuid.uuid4()), "not-a-uuid", ""])
def test_a_forged_answering_id_is_not_found_and_writes_nothing(bob_client, ada, forged):
    asked = start(ada)
    before = written()
    response = bob_client.post(
        conversation_url(asked),
        {"body": "Done.", "answering": [str(asked.public_id), forged], "key": "k1"},
    )
    assert response.status_code == 404
    assert written() == before


def test_an_office_or_automatic_message_cannot_be_checked(bob_client, ada):
    asked = start(ada)
    automatic = Message.objects.get(writer=Message.Writer.AUTOMATIC)
    before = written()
    assert reply(bob_client, asked, answering=(automatic,)).status_code == 404
    assert written() == before


def test_another_patients_or_a_made_up_conversation_is_not_found(bob_client, ada, bea):
    asked, theirs = start(ada), start(bea)
    for conversation_id in (theirs.conversation.public_id, uuid.uuid4()):
        url = reverse("office:conversation", args=[ada.patient.public_id, conversation_id])
        assert bob_client.get(url).status_code == 404
        before = written()
        assert reply(bob_client, asked, answering=(), url=url).status_code == 404
        assert written() == before


def test_another_practice_gets_not_found_everywhere(carol_client, bob, ada, patient_c):
    chart_file = add_chart_pdf(bob, ada.patient)
    asked = start(ada, uploads=(hashed("scan.pdf", PDF_BYTES + b"scan"),))
    attachment = Attachment.objects.get(message=asked)
    document = attachment.portal_document
    assert document is not None
    before = written()
    posted = {
        "body": "Hello",
        "subject": "Hi",
        "category": "other",
        "chart_files": [str(chart_file.public_id)],
        "answering": [str(asked.public_id)],
        "key": "carol-1",
    }
    # Under Ada's id, and under carol's own patient with Ada's objects' ids.
    for patient_id in (ada.patient.public_id, patient_c.public_id):
        urls = [
            reverse("office:conversation", args=[patient_id, asked.conversation.public_id]),
            reverse("office:message_log", args=[patient_id, asked.public_id]),
            reverse("office:message_attachment_inline", args=[patient_id, attachment.public_id]),
            reverse("office:message_attachment_download", args=[patient_id, attachment.public_id]),
            reverse("office:portal_document_save_to_chart", args=[patient_id, document.public_id]),
        ]
        if patient_id == ada.patient.public_id:
            urls += [
                reverse("office:patient_messages", args=[patient_id]),
                reverse("office:message_new", args=[patient_id]),
            ]
        for url in urls:
            if "save-to-chart" not in url:
                assert carol_client.get(url).status_code == 404, url
            assert carol_client.post(url, posted).status_code in (404, 405), url
    # Ada's chart file is not one carol's patient can be sent.
    mixed = carol_client.post(reverse("office:message_new", args=[patient_c.public_id]), posted)
    assert mixed.status_code == 400 and "chart_files" in mixed.context["form"].errors
    assert written() == before
    assert ChartFile.objects.count() == 1


def test_an_empty_message_is_refused_next_to_the_field_and_nothing_is_written(bob_client, ada):
    asked = start(ada)
    before = written()
    response = reply(bob_client, asked, body="   \n ", notes="keep me")
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["body"] == ["Please type your message."]
    page = response.content.decode()
    assert 'id="id_body_error"' in page and "Please type your message." in page
    assert "keep me" in page  # what was typed is kept
    box = input_tag(page, "answering", str(asked.public_id))
    assert 'form="reply-form"' in box and " checked" in box
    assert written() == before


def test_a_refused_attachment_is_said_next_to_the_field_and_nothing_is_written(
    bob_client, ada, make_upload
):
    asked = start(ada)
    before = written()
    bad = make_upload("setup.pdf", b"MZ\x90\x00 not a pdf at all")
    response = reply(bob_client, asked, attachments=[bad])
    assert response.status_code == 400
    errors = response.context["form"].errors["attachments"]
    assert any("setup.pdf" in e for e in errors), errors
    assert written() == before


def test_an_oversize_attachment_is_refused_and_nothing_is_written(
    bob_client, ada, make_upload, settings
):
    settings.CLINICPORTAL_UPLOAD_MAX_BYTES = 1024
    asked = start(ada)
    before = written()
    big = make_upload("big.pdf", PDF_BYTES + b"%" + b"0" * 4096)
    response = reply(bob_client, asked, attachments=[big])
    assert response.status_code == 400
    assert "attachments" in response.context["form"].errors
    assert written() == before


def test_an_upload_the_storage_could_not_take_says_so_with_503(
    bob_client, ada, make_upload, monkeypatch
):
    from tests.upload_faults import full_disk, left_in_tmp

    asked = start(ada)
    before = written()
    full_disk(monkeypatch, room=1024)  # the upload is larger
    big = make_upload("report.pdf", PDF_BYTES + b"%" + b"0" * (64 * 1024))
    response = reply(bob_client, asked, attachments=[big], notes="keep me")
    assert response.status_code == 503
    assert "The upload did not finish: the server’s file storage is full." in (
        response.content.decode()
    )
    assert "keep me" in response.content.decode()
    assert written() == before
    assert left_in_tmp() == []


def test_the_same_key_twice_sends_one_message(bob_client, ada):
    asked = start(ada)
    first = reply(bob_client, asked, key="same-key-123")
    second = reply(bob_client, asked, key="same-key-123", body="A second click")
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert office_messages() == 1
    assert OutboxEmail.objects.filter(kind="message_waiting").count() == 1
    assert not Message.objects.filter(body="A second click").exists()


def test_the_progress_bar_is_told_where_to_go(bob_client, ada):
    asked = start(ada)
    response = reply(bob_client, asked, headers={"X-Upload-Progress": "1"})
    assert response.status_code == 200
    assert response.json() == {"location": conversation_url(asked)}


# Send Message: a new conversation -------------------------------------------------------------


def new_url(patient: Patient) -> str:
    return reverse("office:message_new", args=[patient.public_id])


def test_a_new_conversation_with_a_chart_file_points_at_the_same_content(bob_client, bob, ada):
    chart_file = add_chart_pdf(bob, ada.patient, name="Visual field.pdf")
    page = bob_client.get(new_url(ada.patient)).content.decode()
    assert "Visual field.pdf" in page and "Send Message" in page
    assert " checked" in input_tag(page, "send_email")
    response = bob_client.post(
        new_url(ada.patient),
        {
            "category": "clinical",
            "subject": "Your visual field test",
            "body": "Your results are attached.",
            "office_notes": "Stable since last year",
            "chart_files": [str(chart_file.public_id)],
            "send_email": "on",
            "key": "new-1",
        },
    )
    assert response.status_code == 302
    conversation = Conversation.objects.get()
    assert conversation.started_by_office and conversation.category == "clinical"
    assert response["Location"] == reverse(
        "office:conversation", args=[ada.patient.public_id, conversation.public_id]
    )
    attachment = Attachment.objects.get()
    assert attachment.blob_id == chart_file.blob_id and attachment.filename == "Visual field.pdf"
    assert attachment.portal_document is None
    # The patient can open it: it is in their messages, and it opens from the store.
    shown = portal_messages(actor=ada, conversation=conversation).rows
    assert [a.pk for a in shown[0].attachments.all()] == [attachment.pk]
    found = portal_attachment(actor=ada, public_id=attachment.public_id)
    path = services.attachment_open(actor=ada, attachment=found, download=False)
    assert Path(path).read_bytes() == PDF_BYTES
    assert OutboxEmail.objects.filter(kind="message_waiting", to="ada@example.com").count() == 1


def test_a_new_conversation_with_a_file_from_the_desktop(bob_client, ada, make_upload):
    response = bob_client.post(
        new_url(ada.patient),
        {
            "category": "other",
            "subject": "Your photo",
            "body": "Here it is.",
            "attachments": [make_upload("fundus.png", png_bytes())],
            "key": "new-2",
        },
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.filename == "fundus.png" and attachment.blob.content_type == "image/png"


def test_a_new_conversation_needs_a_category_a_subject_and_a_message(bob_client, ada):
    response = bob_client.post(new_url(ada.patient), {"key": "new-3", "send_email": "on"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["category"] == ["Please choose what the message is about."]
    assert errors["subject"] == ["Please give the message a subject."]
    assert errors["body"] == ["Please type your message."]
    assert not Conversation.objects.exists()


def test_a_chart_file_of_another_patient_cannot_be_attached(bob_client, bob, ada, patient_b):
    theirs = add_chart_pdf(bob, patient_b)
    response = bob_client.post(
        new_url(ada.patient),
        {
            "category": "other",
            "subject": "Hello",
            "body": "Hi",
            "chart_files": [str(theirs.public_id)],
            "key": "new-4",
        },
    )
    assert response.status_code == 400
    assert "chart_files" in response.context["form"].errors
    assert not Conversation.objects.exists() and not Attachment.objects.exists()


def test_a_patient_without_email_gets_no_box_and_no_email(bob_client, alice):
    nell = add_patient(alice, "Nell", "Noaddress")
    page = bob_client.get(new_url(nell)).content.decode()
    assert "Nell has no email address, so no email can be sent." in page
    box = input_tag(page, "send_email")
    assert " disabled" in box and " checked" not in box
    assert "has no portal access yet, so cannot read messages" in page
    response = bob_client.post(
        new_url(nell),
        {"category": "other", "subject": "Hello", "body": "Hi", "send_email": "on", "key": "n"},
    )
    assert response.status_code == 302
    assert not OutboxEmail.objects.exists()


# The list, and the patient's page ------------------------------------------------------------


def test_the_patients_messages_list_their_conversations_newest_first(bob_client, bob, ada):
    first = start(ada, subject="Old question")
    second = start(ada, subject="New question")
    services.task_sign_off(actor=actor(bob), task=Task.objects.get(message=first))
    response = bob_client.get(reverse("office:patient_messages", args=[ada.patient.public_id]))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("New question") < page.index("Old question")
    rows = response.context["rows"]
    assert [(c.subject, name, c.message_count, c.waiting) for c, name in rows] == [
        ("New question", "Prescription refill", 2, 1),
        ("Old question", "Prescription refill", 2, 0),
    ]
    assert conversation_url(second) in page and "Send Message" in page


def test_the_list_uses_the_practices_name_for_a_category(bob_client, alice, ada):
    services.messaging_settings_save(
        actor=actor(alice), response_time="soon", names={"refill": "Drops refill"}, off=[]
    )
    start(ada)
    page = bob_client.get(reverse("office:patient_messages", args=[ada.patient.public_id]))
    assert "Drops refill" in page.content.decode()


def test_the_list_runs_the_same_queries_for_3_or_30_conversations(bob_client, ada):
    url = reverse("office:patient_messages", args=[ada.patient.public_id])
    for i in range(3):
        start(ada, subject=f"Few {i}")
    count_queries(bob_client, url)  # the first page after sign-in stamps the session's use
    few = count_queries(bob_client, url)
    for i in range(27):
        start(ada, subject=f"Many {i}")
    assert count_queries(bob_client, url) == few
    second = bob_client.get(url, {"page": 2})
    assert len(second.context["rows"]) == 5 and "Page 2 of 2" in second.content.decode()


def test_the_reply_window_runs_the_same_queries_for_3_or_30_messages(bob_client, bob, ada):
    asked = start(ada)  # with the acknowledgement: 2 messages
    chart_file = add_chart_pdf(bob, ada.patient)

    def office_reply(n: int) -> None:
        services.office_send(
            actor=actor(bob),
            patient=ada.patient,
            conversation=asked.conversation,
            draft=Draft(body=f"Reply {n}"),
            chart_files=[chart_file],
            office_notes=f"note {n}",
            send_email=True,
        )

    office_reply(0)
    url = conversation_url(asked)
    count_queries(bob_client, url)
    few = count_queries(bob_client, url)
    for n in range(9):
        services.conversation_reply(
            actor=ada,
            conversation=asked.conversation,
            draft=Draft(
                body=f"Question {n}", uploads=(hashed(f"q{n}.pdf", PDF_BYTES + bytes([n])),)
            ),
            requests_response=True,
        )
        services.task_sign_off(actor=actor(bob), task=Task.objects.latest("id"))
        office_reply(n + 1)
        services.conversation_reply(
            actor=ada,
            conversation=asked.conversation,
            draft=Draft(body="Thanks"),
            requests_response=False,
        )
    assert Message.objects.filter(conversation=asked.conversation).count() == 30
    assert count_queries(bob_client, url) == few


def test_the_patient_page_lists_the_latest_conversations(bob_client, ada):
    for i in range(7):
        start(ada, subject=f"Question {i}")
    url = reverse("office:patient", args=[ada.patient.public_id])
    page = bob_client.get(url).content.decode()
    assert 'id="messages-title"' in page
    assert "Question 6" in page and "Question 2" in page and "Question 1" not in page
    assert reverse("office:patient_messages", args=[ada.patient.public_id]) in page
    assert reverse("office:message_new", args=[ada.patient.public_id]) in page


def test_the_patient_page_runs_the_same_queries_for_1_or_8_conversations(bob_client, ada):
    url = reverse("office:patient", args=[ada.patient.public_id])
    start(ada)
    count_queries(bob_client, url)
    one = count_queries(bob_client, url)
    for i in range(7):
        start(ada, subject=f"Question {i}")
    assert count_queries(bob_client, url) == one


def test_the_message_pages_are_under_patients_in_the_navigation(bob_client, ada):
    asked = start(ada)
    for url in (
        reverse("office:patient_messages", args=[ada.patient.public_id]),
        reverse("office:message_new", args=[ada.patient.public_id]),
        conversation_url(asked),
        reverse("office:message_log", args=[ada.patient.public_id, asked.public_id]),
    ):
        assert bob_client.get(url).context["nav"] == "patients", url
