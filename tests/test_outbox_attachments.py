"""Outbox attachments: small text files made for an email go with it, through every attempt."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clinicportal.notifications.models import EmailAttachment, OutboxEmail
from clinicportal.notifications.services import email_queue
from tests.conftest import run_worker

pytestmark = pytest.mark.django_db(transaction=True)

CALENDAR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def queue_with_attachment(practice) -> OutboxEmail:
    with transaction.atomic():
        return email_queue(
            practice=practice,
            to="ada@example.com",
            template="test",
            context={"sender": "Alice"},
            attachments=[
                EmailAttachment("appointment.ics", "text/calendar; method=REQUEST", CALENDAR)
            ],
        )


def test_the_worker_sends_the_attachment_with_its_content_type(
    practice_x, email_settings, smtp_server
):
    queue_with_attachment(practice_x)
    run_worker()
    (message,) = smtp_server.messages
    assert message.get_content_type() == "multipart/mixed"
    (attached,) = list(message.iter_attachments())
    assert attached.get_filename() == "appointment.ics"
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_param("method") == "REQUEST"
    assert attached.get_content().splitlines() == CALENDAR.splitlines()
    # The text and HTML parts are still there, beside it.
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and "test email" in body.get_content().lower()
    assert message.get_body(preferencelist=("html",)) is not None


def test_a_retried_email_sends_the_same_attachment(practice_x, email_settings, request):
    email = queue_with_attachment(practice_x)
    run_worker()  # nothing listens yet
    email.refresh_from_db()
    assert email.status == "queued" and email.attempts == 1
    mailbox = request.getfixturevalue("smtp_server")
    OutboxEmail.objects.update(next_attempt_at=timezone.now())
    run_worker()
    (message,) = mailbox.messages
    assert [part.get_filename() for part in message.iter_attachments()] == ["appointment.ics"]


def test_an_email_without_attachments_stays_a_plain_alternative(
    practice_x, email_settings, smtp_server
):
    with transaction.atomic():
        email_queue(practice=practice_x, to="a@example.com", template="test", context={})
    run_worker()
    (message,) = smtp_server.messages
    assert message.get_content_type() == "multipart/alternative"
    assert list(message.iter_attachments()) == []


def test_the_outbox_names_the_attachments(alice_client, practice_x):
    email = queue_with_attachment(practice_x)
    page = alice_client.get(reverse("office:outbox_email", args=[email.public_id]))
    assert "1 attachment: appointment.ics" in page.content.decode()
    # The calendar file itself stays out of the page.
    assert "BEGIN:VCALENDAR" not in page.content.decode()


def test_only_small_text_files_are_attached():
    with pytest.raises(ValueError, match="text file"):
        EmailAttachment("scan.pdf", "application/pdf", "%PDF")
    with pytest.raises(ValueError, match="small"):
        EmailAttachment("big.txt", "text/plain", "x" * 200_000)
