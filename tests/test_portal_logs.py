"""LOGS: the record viewed or downloaded, and when the office looked at the patient's files."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.records.models import PortalDocument
from tests.conftest import add_chart_pdf


def share_visit_summary(bob_client, bob, patient) -> PortalDocument:
    chart_file = add_chart_pdf(bob, patient, "visit.pdf", description="Visit summary")
    url = reverse("office:portal_document_share", args=[patient.public_id, chart_file.public_id])
    bob_client.post(url, {"document_date": "2026-11-20", "description": "Visit summary"})
    return PortalDocument.objects.get(patient=patient, description="Visit summary")


def logs_html(client) -> str:
    return client.get("/p/clinic-x/logs/").content.decode()


def test_logs_name_the_record_the_patient_viewed_or_downloaded(
    ada_portal, bob, bob_client, patient_a
):
    document = share_visit_summary(bob_client, bob, patient_a)
    ada_portal.get(f"/p/clinic-x/records/{document.public_id}/view")
    ada_portal.get(f"/p/clinic-x/records/{document.public_id}/download")
    html = logs_html(ada_portal)
    assert "Ada Lovelace viewed “Visit summary”" in html
    assert "Ada Lovelace downloaded “Visit summary”" in html


def test_the_record_keeps_the_name_it_had_when_it_was_viewed(
    ada_portal, bob, bob_client, patient_a
):
    document = share_visit_summary(bob_client, bob, patient_a)
    ada_portal.get(f"/p/clinic-x/records/{document.public_id}/view")
    PortalDocument.objects.filter(pk=document.pk).update(description="Renamed later")
    html = logs_html(ada_portal)
    assert "viewed “Visit summary”" in html and "Renamed later" not in html
    event = AuditEvent.objects.get(action="portal_document.viewed")
    assert (event.object_id, event.object_label) == (str(document.public_id), "Visit summary")


def test_a_record_without_a_description_is_named_by_its_file_name(
    ada_portal, bob, bob_client, patient_a
):
    url = reverse("office:portal_document_upload", args=[patient_a.public_id])
    from tests.test_records import PDF_BYTES, named

    bob_client.post(url, {"upload": named("glasses.pdf", PDF_BYTES), "document_date": "2026-11-21"})
    document = PortalDocument.objects.get()
    ada_portal.get(f"/p/clinic-x/records/{document.public_id}/view")
    assert "Ada Lovelace viewed “glasses.pdf”" in logs_html(ada_portal)


def test_the_office_viewing_the_portal_files_and_the_chart_shows_in_logs(
    ada_portal, bob, bob_client, patient_a
):
    document = share_visit_summary(bob_client, bob, patient_a)
    chart_file = add_chart_pdf(bob, patient_a, "referral.pdf", description="Private referral")
    bob_client.get(
        reverse("office:portal_document", args=[patient_a.public_id, document.public_id])
    )
    bob_client.get(reverse("office:patient", args=[patient_a.public_id]))
    bob_client.get(
        reverse("office:chart_file_inline", args=[patient_a.public_id, chart_file.public_id])
    )
    bob_client.get(
        reverse("office:chart_file_download", args=[patient_a.public_id, chart_file.public_id])
    )
    html = logs_html(ada_portal)
    assert "The office viewed “Visit summary”" in html
    assert "The office viewed the chart" in html
    assert "The office viewed a file in the chart" in html
    assert "The office downloaded a file from the chart" in html
    # The chart is not on the portal: a file's name there may be news to an authorized user.
    assert "Private referral" not in html and "referral.pdf" not in html
    assert "Bob Front Desk" not in html


def test_a_practice_can_name_the_staff_member_instead(
    alice_client, ada_portal, bob, bob_client, patient_a
):
    document = share_visit_summary(bob_client, bob, patient_a)
    bob_client.get(
        reverse("office:portal_document", args=[patient_a.public_id, document.public_id])
    )
    response = alice_client.post(
        reverse("office:settings_website"),
        {
            "name": "Clinic X Eye Care",
            "portal_idle_minutes": "15",
            "logs_staff_as": "name",
            "time_zone": "America/New_York",
        },
    )
    assert response.status_code == 302
    html = logs_html(ada_portal)
    assert "Bob Front Desk viewed “Visit summary”" in html
    assert "The office viewed" not in html


def test_logs_with_office_and_patient_rows_run_a_constant_number_of_queries(
    ada_portal, bob, bob_client, patient_a
):
    document = share_visit_summary(bob_client, bob, patient_a)
    office_url = reverse("office:portal_document", args=[patient_a.public_id, document.public_id])
    with CaptureQueriesContext(connection) as few:
        ada_portal.get("/p/clinic-x/logs/")
    for _ in range(15):
        bob_client.get(office_url)
        ada_portal.get(f"/p/clinic-x/records/{document.public_id}/view")
    with CaptureQueriesContext(connection) as many:
        response = ada_portal.get("/p/clinic-x/logs/")
    assert len(response.context["page"].object_list) == 25 and response.context["page"].has_next()
    assert len(many) == len(few)


def test_logs_describe_the_secure_messages_by_subject_and_file_name(ada_portal, alice, patient_a):
    from clinicportal.accounts.models import PortalAccount
    from clinicportal.core.context import PortalActor
    from clinicportal.messaging import services
    from clinicportal.messaging.selectors import portal_messages
    from clinicportal.messaging.services import Draft
    from tests.conftest import actor

    ada = PortalActor(account=PortalAccount.objects.get(username="ada"), patient=patient_a)
    asked = services.conversation_start(
        actor=ada,
        category="refill",
        subject="Refill",
        draft=Draft(body="Please refill my drops."),
        requests_response=True,
    )
    reply = services.office_send(
        actor=actor(alice),
        patient=patient_a,
        conversation=asked.conversation,
        draft=Draft(body="Here is your prescription."),
        chart_files=[add_chart_pdf(alice, patient_a, "prescription.pdf")],
        send_email=False,
    )
    services.conversation_office_view(actor=actor(alice), conversation=asked.conversation)
    services.conversation_read(
        actor=ada, messages=portal_messages(actor=ada, conversation=asked.conversation).rows
    )
    attachment = reply.attachments.get()
    for download in (False, True):
        services.attachment_open(actor=ada, attachment=attachment, download=download)
    services.attachment_open(actor=actor(alice), attachment=attachment, download=False)
    html = logs_html(ada_portal)
    assert "Ada Lovelace sent a message: “Refill”" in html
    # The reply, by its first words; the practice's thanks was read as it was sent.
    assert html.count("Ada Lovelace read the message “Here is your prescription.”") == 1
    assert "The office opened your messages: “Refill”" in html
    assert "Ada Lovelace viewed “prescription.pdf”, sent with a message" in html
    assert "Ada Lovelace downloaded “prescription.pdf”, sent with a message" in html
    assert "The office opened “prescription.pdf”, sent with a message" in html
