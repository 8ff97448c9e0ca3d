"""Reading a conversation: a page of messages with their own attachments, in two queries."""

from __future__ import annotations

import pytest

from clinicportal.messaging import services
from clinicportal.messaging.models import Message
from clinicportal.messaging.selectors import office_messages, portal_messages
from clinicportal.messaging.services import Draft
from tests.conftest import PDF_BYTES, actor, add_chart_pdf


def reply(alice, patient, conversation, body: str, files=()) -> Message:
    return services.office_send(
        actor=actor(alice),
        patient=patient,
        draft=Draft(body=body),
        conversation=conversation,
        chart_files=files,
        send_email=False,
    )


@pytest.mark.parametrize("side", ["office", "portal"])
def test_each_message_has_its_own_attachments_read_with_the_history(
    side, ada, alice, patient_a, django_assert_num_queries
):
    asked = services.conversation_start(
        actor=ada,
        category="clinical",
        subject="My eyes",
        draft=Draft(body="Could you send my results?"),
        requests_response=True,
    )
    conversation = asked.conversation
    exam = add_chart_pdf(alice, patient_a, name="exam.pdf")
    fields = add_chart_pdf(alice, patient_a, name="fields.pdf", data=PDF_BYTES + b"\n")
    both = reply(alice, patient_a, conversation, "Here are both.", [exam, fields])
    plain = reply(alice, patient_a, conversation, "And the appointment is on Monday.")
    one = reply(alice, patient_a, conversation, "The exam again.", [exam])

    def read() -> list[Message]:
        if side == "office":
            return office_messages(actor=actor(alice), conversation=conversation).rows
        return portal_messages(actor=ada, conversation=conversation).rows

    with django_assert_num_queries(2):  # the messages, then all their attachments
        history = read()
    with django_assert_num_queries(0):
        shown = {
            message.pk: [
                (
                    attachment.filename,
                    attachment.blob.size,
                    attachment.portal_document,  # none: the office sent these
                    attachment.message is message,
                )
                for attachment in message.files
            ]
            for message in history
        }
    automatic = history[1].pk
    assert shown == {
        asked.pk: [],
        automatic: [],
        both.pk: [
            ("exam.pdf", len(PDF_BYTES), None, True),
            ("fields.pdf", len(PDF_BYTES) + 1, None, True),
        ],
        plain.pk: [],
        one.pk: [("exam.pdf", len(PDF_BYTES), None, True)],
    }

    for number in range(5):  # a longer history, more files: the same two queries
        reply(alice, patient_a, conversation, f"Note {number}.", [exam, fields])
    with django_assert_num_queries(2):
        history = read()
    assert len(history) == 10
    assert sum(len(message.files) for message in history) == 3 + 10


@pytest.mark.parametrize("side", ["office", "portal"])
def test_a_long_conversation_shows_its_newest_page_and_pages_back(side, ada, alice, patient_a):
    from clinicportal.messaging.selectors import HISTORY_PER_PAGE

    asked = services.conversation_start(
        actor=ada,
        category="clinical",
        subject="Readings",
        draft=Draft(body="Day 0"),
        requests_response=False,
    )
    conversation = asked.conversation
    for number in range(HISTORY_PER_PAGE + 3):
        reply(alice, patient_a, conversation, f"Reply {number}")

    def read(cursor: str | None = None):
        if side == "office":
            return office_messages(actor=actor(alice), conversation=conversation, cursor=cursor)
        return portal_messages(actor=ada, conversation=conversation, cursor=cursor)

    newest = read()
    assert [m.body for m in newest.rows][-1] == f"Reply {HISTORY_PER_PAGE + 2}"
    assert len(newest.rows) == HISTORY_PER_PAGE
    assert newest.has_previous and not newest.has_next
    earlier = read(newest.previous_cursor)
    bodies = [m.body for m in earlier.rows]  # the message, the acknowledgement, three replies
    assert bodies[0] == "Day 0" and bodies[2:] == ["Reply 0", "Reply 1", "Reply 2"]
    assert not earlier.has_previous and earlier.has_next
    assert read(earlier.next_cursor).rows[0].body == "Reply 3"
