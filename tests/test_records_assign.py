"""Assign File From Other Patient, and sharing a chart file twice: the office asks first."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clinicportal.records.models import PortalDocument
from clinicportal.records.services import (
    AlreadyOnPortal,
    portal_document_assign_from_patient,
    portal_document_share_chart_file,
)
from tests.conftest import PDF_BYTES, actor, add_chart_pdf


def on_portal(member, patient, description: str, *, education: bool, data: bytes):
    chart_file = add_chart_pdf(member, patient, f"{description}.pdf", description, data=data)
    return portal_document_share_chart_file(
        actor=actor(member),
        chart_file=chart_file,
        document_date=chart_file.document_date,
        description=description,
        is_education=education,
    )


@pytest.fixture
def blaise_files(bob, patient_b):
    """Patient B's portal: an education handout and his own visit summary."""
    handout = on_portal(bob, patient_b, "About glaucoma", education=True, data=PDF_BYTES + b"e")
    summary = on_portal(bob, patient_b, "Visit summary", education=False, data=PDF_BYTES + b"p")
    return handout, summary


def assign_url(patient, other, **query) -> str:
    url = reverse("office:portal_document_assign_other", args=[patient.public_id])
    params = "&".join(f"{key}={value}" for key, value in {"from": other.public_id, **query}.items())
    return f"{url}?{params}"


def test_education_files_are_offered_and_personal_records_only_when_asked(
    bob_client, patient_a, patient_b, blaise_files
):
    page = bob_client.get(assign_url(patient_a, patient_b)).content.decode()
    assert "About glaucoma" in page and "Visit summary" not in page
    assert "Show Blaise Pascal’s personal records too (1)" in page
    page = bob_client.get(assign_url(patient_a, patient_b, personal=1)).content.decode()
    assert page.index("About glaucoma") < page.index("Visit summary")
    assert "These hold Blaise Pascal’s own health information" in page


def test_choosing_a_file_shows_it_with_the_education_box_set_from_it(
    bob_client, patient_a, patient_b, blaise_files
):
    handout, summary = blaise_files
    page = bob_client.get(assign_url(patient_a, patient_b, document=handout.public_id))
    html = page.content.decode()
    assert page.status_code == 200 and "About glaucoma" in html
    assert 'name="is_education" id="id_is_education" checked' in html
    assert "confirm_personal" not in html
    html = bob_client.get(assign_url(patient_a, patient_b, document=summary.public_id)).content
    html = html.decode()
    assert 'name="is_education" id="id_is_education">' in html
    assert "“Visit summary” holds Blaise Pascal’s information" in html
    assert 'name="confirm_personal"' in html
    assert not PortalDocument.objects.filter(patient=patient_a).exists()


def test_a_personal_record_is_assigned_only_when_confirmed(
    bob_client, patient_a, patient_b, blaise_files
):
    _, summary = blaise_files
    url = assign_url(patient_a, patient_b)
    refused = bob_client.post(url, {"document": str(summary.public_id)})
    assert refused.status_code == 400
    assert "Please confirm that Ada Lovelace may see Blaise Pascal’s information." in (
        refused.content.decode()
    )
    assert not PortalDocument.objects.filter(patient=patient_a).exists()
    response = bob_client.post(url, {"document": str(summary.public_id), "confirm_personal": "on"})
    assert response.status_code == 302
    assigned = PortalDocument.objects.get(patient=patient_a)
    assert (assigned.source, assigned.is_education, assigned.blob_id) == (
        "other_patient",
        False,
        summary.blob_id,
    )


def test_an_education_file_is_assigned_with_the_box_as_sent(
    bob_client, patient_a, patient_b, blaise_files
):
    handout, _ = blaise_files
    url = assign_url(patient_a, patient_b)
    response = bob_client.post(url, {"document": str(handout.public_id), "is_education": "on"})
    assert response.status_code == 302
    assert PortalDocument.objects.get(patient=patient_a).is_education


def test_the_service_refuses_a_personal_record_without_confirmation(bob, patient_a, blaise_files):
    _, summary = blaise_files
    with pytest.raises(ValidationError, match="Blaise Pascal’s information"):
        portal_document_assign_from_patient(
            actor=actor(bob), patient=patient_a, document=summary, is_education=False
        )
    assert not PortalDocument.objects.filter(patient=patient_a).exists()


def test_a_file_of_someone_else_is_404_on_the_confirm_step(
    bob_client, bob, carol, patient_a, patient_b, patient_c, blaise_files
):
    own = on_portal(carol, patient_c, "Elsewhere", education=True, data=PDF_BYTES + b"c")
    for document in (own.public_id, "not-a-uuid"):
        assert (
            bob_client.get(assign_url(patient_a, patient_b, document=document)).status_code == 404
        )
    # A file of this very patient is no "other patient's" file either.
    ada_file = on_portal(bob, patient_a, "Hers", education=True, data=PDF_BYTES + b"a")
    assert (
        bob_client.get(assign_url(patient_a, patient_b, document=ada_file.public_id)).status_code
        == 404
    )


def test_sharing_a_file_already_on_the_portal_asks_first(bob_client, bob, patient_a):
    chart_file = add_chart_pdf(bob, patient_a, "visit.pdf", "Visit summary")
    url = reverse("office:portal_document_share", args=[patient_a.public_id, chart_file.public_id])
    data = {"document_date": "2026-11-20", "description": "Visit summary"}
    assert bob_client.post(url, data).status_code == 302
    first = PortalDocument.objects.get()
    asked = bob_client.post(url, {**data, "description": "Visit summary again"})
    html = asked.content.decode()
    assert asked.status_code == 200
    shared = timezone.localtime(first.created_at).strftime("%m/%d/%Y")
    assert f"This file is already on Ada’s portal (shared {shared}). Share it again?" in html
    assert 'value="Visit summary again"' in html and 'name="share_again"' in html
    assert PortalDocument.objects.count() == 1
    again = bob_client.post(url, {**data, "description": "Again", "share_again": "1"})
    assert again.status_code == 302
    assert PortalDocument.objects.count() == 2


def test_the_share_service_refuses_a_second_copy_unless_asked(bob, patient_a):
    chart_file = add_chart_pdf(bob, patient_a)

    def share(again: bool = False) -> PortalDocument:
        return portal_document_share_chart_file(
            actor=actor(bob),
            chart_file=chart_file,
            document_date=chart_file.document_date,
            description="",
            is_education=False,
            again=again,
        )

    first = share()
    with pytest.raises(AlreadyOnPortal, match="already on Ada’s portal") as refused:
        share()
    assert refused.value.document == first
    share(again=True)
    assert PortalDocument.objects.count() == 2
