"""A message, its attachments, its task and its email are written together, or not at all.

Each test makes the database refuse the last of those writes, as a fault at that moment would
(a trigger raising an error, the way a full disk or a lost connection surfaces to Django), and
checks that nothing of the message is left behind.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import DatabaseError, connection

from clinicportal.audit.models import AuditEvent
from clinicportal.messaging import services
from clinicportal.messaging.models import Attachment, Conversation, Message, Task
from clinicportal.messaging.services import Draft
from clinicportal.notifications.models import OutboxEmail
from clinicportal.records.models import PortalDocument
from tests.conftest import actor, add_chart_pdf


def refuse_inserts(table: str) -> Iterator[None]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'could not write block'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER refuse")
        else:
            cursor.execute(f"DROP TRIGGER refuse ON {table}")
            cursor.execute("DROP FUNCTION refuse()")


@pytest.fixture
def tasks_refused() -> Iterator[None]:
    yield from refuse_inserts("messaging_task")


@pytest.fixture
def emails_refused() -> Iterator[None]:
    yield from refuse_inserts("notifications_outboxemail")


def test_a_patient_message_whose_task_cannot_be_written_leaves_nothing(ada, tasks_refused):
    before = AuditEvent.objects.count()
    with pytest.raises(DatabaseError):
        services.conversation_start(
            actor=ada,
            category="refill",
            subject="Refill",
            draft=Draft(body="Please refill."),
            requests_response=True,
        )
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert AuditEvent.objects.count() == before


def test_an_office_message_whose_email_cannot_be_queued_leaves_nothing(
    alice, patient_a, emails_refused
):
    chart_file = add_chart_pdf(alice, patient_a)
    with pytest.raises(DatabaseError):
        services.office_send(
            actor=actor(alice),
            patient=patient_a,
            subject="Your results",
            draft=Draft(body="Your results are in."),
            chart_files=[chart_file],
            send_email=True,
        )
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert not Attachment.objects.exists()
    assert not OutboxEmail.objects.exists()
    assert not Task.objects.exists()
    assert not PortalDocument.objects.filter(source="patient_upload").exists()
