"""Secure messages made as the patient's side and the office would, for the office's tests."""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.accounts.models import PortalAccount
from clinicportal.audit.models import AuditEvent
from clinicportal.content.blobstore import get_blob_store
from clinicportal.content.sniff import HEAD_BYTES
from clinicportal.content.uploads import HashedUpload
from clinicportal.core.context import PortalActor
from clinicportal.messaging import services
from clinicportal.messaging.models import Attachment, Conversation, Message
from clinicportal.messaging.services import Draft
from clinicportal.notifications.models import OutboxEmail
from clinicportal.patients.models import Patient

WAITING = (
    "You have a secure message waiting for you at http://testserver/p/clinic-x/. "
    "Please log in to view this message."
)


# Making messages as the patient's side and the office would --------------------------------


def portal_actor(patient: Patient, username: str, issue_access) -> PortalActor:
    issue_access(patient, username)
    account = PortalAccount.objects.get(username=username)
    return PortalActor(account=account, patient=patient, ip="127.0.0.1", user_agent="pytest")


def hashed(name: str, data: bytes, content_type: str = "application/pdf") -> HashedUpload:
    """A file as the upload handler leaves it: in the store's temporary folder, hashed."""
    with get_blob_store().new_temp_file() as handle:
        handle.write(data)
        path = Path(handle.name)
    return HashedUpload(
        temp_path=path,
        name=name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        head=data[:HEAD_BYTES],
        too_large=False,
        content_type=content_type,
    )


def start(
    who: PortalActor,
    body: str = "I would like a refill of my glaucoma drops.",
    subject: str = "Refill request",
    uploads: tuple[HashedUpload, ...] = (),
    requests_response: bool = True,
) -> Message:
    return services.conversation_start(
        actor=who,
        category="refill",
        subject=subject,
        draft=Draft(body=body, uploads=uploads),
        requests_response=requests_response,
    )


def conversation_url(message: Message) -> str:
    return reverse(
        "office:conversation", args=[message.patient.public_id, message.conversation.public_id]
    )


def reply(
    client: Client,
    asked: Message,
    *,
    body: str = "Your refill is at the pharmacy.",
    answering: tuple[Message, ...] | None = None,
    notes: str = "",
    email: bool = True,
    key: str | None = None,
    url: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Any:
    data: dict[str, Any] = {
        "body": body,
        "office_notes": notes,
        "answering": [str(m.public_id) for m in (answering if answering is not None else [asked])],
        "key": key or secrets.token_urlsafe(16),
        **extra,
    }
    if email:
        data["send_email"] = "on"
    return client.post(url or conversation_url(asked), data, headers=headers)


def input_tag(page: str, name: str, value: str | None = None) -> str:
    """The page's <input> with this name (and value), as written."""
    for tag in re.findall(r"<input\b[^>]*>", page):
        if f'name="{name}"' in tag and (value is None or f'value="{value}"' in tag):
            return tag
    raise AssertionError(f"no input {name}={value}")


def office_messages() -> int:
    return Message.objects.filter(writer=Message.Writer.OFFICE).count()


def written() -> tuple[int, ...]:
    """Everything a sent message would add."""
    return (
        Message.objects.count(),
        Conversation.objects.count(),
        Attachment.objects.count(),
        OutboxEmail.objects.count(),
        AuditEvent.objects.filter(action=AuditEvent.Action.MESSAGE_OFFICE_SENT).count(),
        Message.objects.filter(response_at__isnull=False).count(),
    )


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)
