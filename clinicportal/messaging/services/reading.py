"""Record messages and their files being opened: by the patient's side, and by staff."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils.text import Truncator

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.content.services import blob_servable_path
from clinicportal.core.access import require_reachable
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.messaging.models import (
    Attachment,
    Conversation,
    Message,
    MessageRead,
)

READ_LABEL_MAX = 80


def conversation_read(*, actor: PortalActor, messages: Sequence[Message]) -> list[Message]:
    """Record the patient's side opening these messages; return those it had not read before.

    Only messages from the office (and the practice's acknowledgement) are marked; each once,
    however many times the page is opened, and each in LOGS.
    """
    unread = [m for m in messages if not m.from_patient and _is_unread(m)]
    if not unread:
        return []
    for message in unread:
        require_reachable(actor, message)
    with transaction.atomic():
        MessageRead.objects.bulk_create(
            [
                MessageRead(
                    practice=actor.practice,
                    patient=message.patient,
                    message=message,
                    account=actor.account,
                )
                for message in unread
            ],
            ignore_conflicts=True,
        )
        for message in unread:
            audit_record(  # LOGS names the message by its first words
                actor=actor,
                action=AuditEvent.Action.MESSAGE_READ,
                target=message,
                patient=message.patient,
                label=Truncator(message.first_line).chars(READ_LABEL_MAX),
            )
    return unread


def _is_unread(message: Message) -> bool:
    try:
        message.read  # noqa: B018 (select_related gave it, or it raises)
    except MessageRead.DoesNotExist:
        return True
    return False


def conversation_office_view(*, actor: StaffActor, conversation: Conversation) -> None:
    """Record a staff member opening a patient's messages (they are the patient's data)."""
    require_reachable(actor, conversation)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditEvent.Action.MESSAGES_OFFICE_VIEWED,
            target=conversation,
            patient=conversation.patient,
        )


def attachment_open(
    *, actor: PortalActor | StaffActor, attachment: Attachment, download: bool
) -> str:
    """Record the attachment being opened; return its stored file's path.

    Raises FileNotFoundError when the stored content is missing or damaged.
    """
    require_reachable(actor, attachment)
    path = blob_servable_path(attachment.blob)
    if isinstance(actor, StaffActor):
        action = AuditEvent.Action.MESSAGE_ATTACHMENT_OFFICE_OPENED
    elif download:
        action = AuditEvent.Action.MESSAGE_ATTACHMENT_DOWNLOADED
    else:
        action = AuditEvent.Action.MESSAGE_ATTACHMENT_VIEWED
    with transaction.atomic():
        audit_record(actor=actor, action=action, target=attachment, patient=attachment.patient)
    return path
