"""A message's attachments in the office, and Save to chart for the files the patient sent."""

from __future__ import annotations

from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.messaging.models import Attachment
from clinicportal.patients.models import ChartFile
from clinicportal.records.models import PortalDocument
from tests.conftest import PDF_BYTES
from tests.secure_messages import (
    conversation_url,
    hashed,
    start,
)

# Attachments and Save to chart ----------------------------------------------------------------


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


def test_a_patients_attachment_is_saved_to_the_chart_once(bob_client, ada):
    asked = start(ada, uploads=(hashed("insurance card.pdf", PDF_BYTES + b"card"),))
    attachment = Attachment.objects.get(message=asked)
    document = attachment.portal_document
    assert document is not None and document.source == PortalDocument.Source.PATIENT_UPLOAD
    window = bob_client.get(conversation_url(asked)).content.decode()
    save_url = reverse(
        "office:portal_document_save_to_chart", args=[ada.patient.public_id, document.public_id]
    )
    assert save_url in window and "Save to chart" in window
    chart = bob_client.get(reverse("office:patient", args=[ada.patient.public_id]))
    assert save_url in chart.content.decode()  # in Online Files too, "Sent by the patient"
    assert "Purple: sent by the patient." in chart.content.decode()  # the legend names its colour

    response = bob_client.post(f"{save_url}?next={conversation_url(asked)}")
    assert response.status_code == 302 and response["Location"] == conversation_url(asked)
    chart_file = ChartFile.objects.get()
    assert chart_file.blob_id == attachment.blob_id and chart_file.patient_id == ada.patient.pk
    assert (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.PORTAL_DOCUMENT_SAVED_TO_CHART, patient=ada.patient
        ).count()
        == 1
    )
    shown = bob_client.get(response["Location"]).content.decode()
    assert "“insurance card.pdf” was saved to Ada’s chart." in shown
    assert "In the chart" in shown and save_url not in shown

    again = bob_client.post(save_url)
    assert again.status_code == 302
    assert again["Location"].endswith("#online-portal")
    assert "is in the chart already" in bob_client.get(again["Location"]).content.decode()
    assert ChartFile.objects.count() == 1
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.PORTAL_DOCUMENT_SAVED_TO_CHART).count()
        == 1
    )


def test_save_to_chart_goes_back_only_within_the_office(bob_client, ada):
    start(ada, uploads=(hashed("card.pdf", PDF_BYTES + b"c"),))
    document = PortalDocument.objects.get()
    url = reverse(
        "office:portal_document_save_to_chart", args=[ada.patient.public_id, document.public_id]
    )
    response = bob_client.post(f"{url}?next=https://evil.example/")
    assert response["Location"].endswith("#online-portal")


def test_save_to_chart_is_post_only(bob_client, ada):
    start(ada, uploads=(hashed("card.pdf", PDF_BYTES + b"c"),))
    document = PortalDocument.objects.get()
    url = reverse(
        "office:portal_document_save_to_chart", args=[ada.patient.public_id, document.public_id]
    )
    assert bob_client.get(url).status_code == 405
    assert not ChartFile.objects.exists()
