"""The message log, and the "a message is waiting" email over real SMTP, up or down."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from clinicportal.messaging import services
from clinicportal.messaging.models import Message, Task
from clinicportal.messaging.selectors import portal_messages
from clinicportal.notifications.models import OutboxEmail
from tests.conftest import actor, run_worker
from tests.secure_messages import (
    WAITING,
    conversation_url,
    reply,
    start,
)


@pytest.mark.django_db(transaction=True)
def test_the_email_arrives_over_smtp_without_the_note(bob_client, ada, email_settings, smtp_server):
    asked = start(ada)
    reply(bob_client, asked, notes="Dr. Ng approved the refill")
    run_worker()
    (received,) = smtp_server.messages
    assert received["To"] == "ada@example.com"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert WAITING in text
    for part in (received["Subject"], text, html):
        for secret in ("Dr. Ng", "approved", "Refill", "refill", "glaucoma", "pharmacy"):
            assert secret not in part, (secret, part)
    sent = Message.objects.get(writer=Message.Writer.OFFICE)
    log = bob_client.get(
        reverse("office:message_log", args=[ada.patient.public_id, sent.public_id])
    ).content.decode()
    assert "Email queued to ada@example.com" in log and "Email sent" in log


@pytest.mark.django_db(transaction=True)
def test_with_smtp_down_the_message_is_kept_and_the_email_goes_once_when_it_returns(
    bob_client, ada, email_settings, smtp_port, request
):
    asked = start(ada)
    assert reply(bob_client, asked).status_code == 302
    run_worker()  # nothing listens on the mail server's port
    sent = Message.objects.get(writer=Message.Writer.OFFICE)
    email = OutboxEmail.objects.get(kind="message_waiting")
    assert email.status == "queued" and email.attempts == 1 and email.sent_at is None
    assert email.last_error and email.next_attempt_at
    asked.refresh_from_db()
    assert asked.answered_by_id == sent.pk  # the message is there, answered, whatever the email
    page = bob_client.get(conversation_url(asked)).content.decode()
    assert "Your refill is at the pharmacy." in page and "Email: Queued" in page

    mailbox = request.getfixturevalue("smtp_server")  # the server comes back
    OutboxEmail.objects.update(next_attempt_at=timezone.now())  # the retry is due
    run_worker()
    run_worker()  # nothing more to send
    email.refresh_from_db()
    assert email.status == "sent" and email.attempts == 2
    assert len(mailbox.messages) == 1 and mailbox.messages[0]["To"] == "ada@example.com"


# The message log ------------------------------------------------------------------------------


def test_the_message_log_lists_what_happened(bob_client, bob, ada):
    asked = start(ada)
    reply(bob_client, asked)
    sent = Message.objects.get(writer=Message.Writer.OFFICE)
    services.conversation_read(
        actor=ada, messages=portal_messages(actor=ada, conversation=asked.conversation).rows
    )
    services.task_sign_off(actor=actor(bob), task=Task.objects.get(message=asked))

    asked_log = bob_client.get(
        reverse("office:message_log", args=[ada.patient.public_id, asked.public_id])
    )
    assert asked_log.status_code == 200
    page = asked_log.content.decode()
    assert "I would like a refill of my glaucoma drops." in page  # the message itself, on top
    whats = [line.what for line in asked_log.context["lines"]]
    assert whats == [
        "Message sent to the office",
        "Answered: “Your refill is at the pharmacy.”",
        "Task signed off",
    ]
    whos = [line.who for line in asked_log.context["lines"]]
    assert whos == ["Ada Lovelace", "Bob Front Desk", "Bob Front Desk"]
    assert "Signed off by Bob Front Desk" in page

    sent_log = bob_client.get(
        reverse("office:message_log", args=[ada.patient.public_id, sent.public_id])
    )
    whats = [line.what for line in sent_log.context["lines"]]
    # Written, then queued in the same transaction; then read by the patient.
    assert whats == ["Message sent by the office", "Email queued to ada@example.com", "Read"]
    assert sent_log.context["lines"][2].who == "Ada Lovelace"
    assert "Your refill is at the pharmacy." in sent_log.content.decode()
