"""A message's attachments in the office: opened inline or downloaded, and audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.core.context import PortalActor
from clinicportal.messaging.models import Attachment
from tests.conftest import PDF_BYTES
from tests.secure_messages import (
    hashed,
    portal_actor,
    start,
)


@pytest.fixture
def ada(patient_a, issue_access) -> PortalActor:
    return portal_actor(patient_a, "ada", issue_access)


def test_staff_open_an_attachment_inline_or_download_it_and_it_is_audited(bob_client, ada):
    asked = start(ada, uploads=(hashed("scan.pdf", PDF_BYTES + b"scan"),))
    attachment = Attachment.objects.get(message=asked)
    args = [ada.patient.public_id, attachment.public_id]
    inline = bob_client.get(reverse("office:message_attachment_inline", args=args))
    assert inline.status_code == 200 and inline["Content-Type"] == "application/pdf"
    assert inline["Content-Disposition"].startswith("inline")
    assert inline["X-Frame-Options"] == "SAMEORIGIN"
    download = bob_client.get(reverse("office:message_attachment_download", args=args))
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == PDF_BYTES + b"scan"
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.MESSAGE_ATTACHMENT_OFFICE_OPENED).count()
        == 2
    )
