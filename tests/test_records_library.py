"""The practice's documents library: admins keep it, staff assign from it to portals."""

from __future__ import annotations

import re

from django.urls import reverse

from clinicportal.content.models import Blob
from clinicportal.practices.models import SystemDocument
from clinicportal.records.models import PortalDocument
from tests.conftest import (
    PDF_BYTES,
    add_chart_pdf,
    search_params,
    searched,
)
from tests.test_patient_search_handles import addresses
from tests.test_records import add_to_library, named, share, upload


def test_admins_keep_a_library_and_staff_assign_from_it(alice_client, bob_client, patient_a):
    assert add_to_library(alice_client).status_code == 302
    refused = add_to_library(alice_client, "bad.pdf", b"MZ\x90\x00", "Bad")
    assert refused.status_code == 400 and "not a file type we accept" in refused.content.decode()
    assert add_to_library(bob_client).status_code == 403
    library = SystemDocument.objects.get()
    url = reverse("office:portal_document_assign_system", args=[patient_a.public_id])
    page = searched(bob_client, url, "glauc").content.decode()
    assert "About glaucoma" in page
    assert "About glaucoma" not in searched(bob_client, url, "cataract").content.decode()
    response = bob_client.post(url, {"document": str(library.public_id), "is_education": "on"})
    assert response.status_code == 302
    document = PortalDocument.objects.get()
    assert (document.source, document.blob, document.is_education) == ("system", library.blob, True)
    assert (
        "System document"
        in bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    )


def test_the_library_search_is_posted_and_the_address_holds_only_a_handle(
    alice_client, bob_client, patient_a
):
    add_to_library(alice_client)
    library = SystemDocument.objects.get()
    url = reverse("office:portal_document_assign_system", args=[patient_a.public_id])
    answer = bob_client.post(url, {"q": "glauc"})
    assert re.fullmatch(re.escape(url) + r"\?s=[\w-]+", answer["Location"])
    html = bob_client.get(answer["Location"]).content.decode()
    assert 'value="glauc"' in html and "About glaucoma" in html
    assert not [a for a in addresses(html) if "glauc" in a.lower()]
    assert bob_client.post(url, {"q": " "})["Location"] == url
    # Choosing from the found list posts back to the same address and assigns.
    chosen = {"document": str(library.public_id), "is_education": "on"}
    assert bob_client.post(answer["Location"], chosen).status_code == 302
    assert PortalDocument.objects.get().source == "system"


def test_a_lost_or_foreign_library_handle_shows_the_whole_library_kindly(
    alice_client, bob_client, patient_a
):
    add_to_library(alice_client)
    url = reverse("office:portal_document_assign_system", args=[patient_a.public_id])
    patients = search_params(bob_client, reverse("office:patients"), "cataract")
    for params in ({"s": "nosuchxx"}, patients):
        response = bob_client.get(url, params)
        html = response.content.decode()
        assert response.status_code == 200 and "That search is no longer kept" in html
        assert "About glaucoma" in html and 'value="cataract"' not in html


def test_replacing_a_library_file_leaves_assigned_copies_as_they_were(
    alice_client, bob_client, patient_a
):

    add_to_library(alice_client)
    library = SystemDocument.objects.get()
    bob_client.post(
        reverse("office:portal_document_assign_system", args=[patient_a.public_id]),
        {"document": str(library.public_id)},
    )
    old_blob = library.blob_id
    alice_client.post(
        reverse("office:settings_library_replace", args=[library.public_id]),
        {"upload": named("glaucoma-2027.pdf", PDF_BYTES + b"new")},
    )
    library.refresh_from_db()
    assert library.blob_id != old_blob and library.filename == "glaucoma-2027.pdf"
    assert PortalDocument.objects.get().blob_id == old_blob
    assert Blob.objects.filter(pk=old_blob).exists()  # still on the patient's portal


MISNAMED_PAGE = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
MISNAMED_MESSAGE = "“report.pdf” is named .pdf but it is an HTML page"


def test_portal_and_library_uploads_refuse_a_page_named_like_a_pdf(
    alice_client, bob_client, patient_a
):

    portal = upload(bob_client, patient_a, "report.pdf", MISNAMED_PAGE)
    assert portal.status_code == 400 and MISNAMED_MESSAGE in portal.content.decode()
    added = add_to_library(alice_client, "report.pdf", MISNAMED_PAGE, "Handout")
    assert added.status_code == 400 and MISNAMED_MESSAGE in added.content.decode()
    add_to_library(alice_client)
    library = SystemDocument.objects.get()
    replaced = alice_client.post(
        reverse("office:settings_library_replace", args=[library.public_id]),
        {"upload": named("report.pdf", MISNAMED_PAGE)},
        follow=True,
    )
    assert MISNAMED_MESSAGE in replaced.content.decode()
    library.refresh_from_db()
    assert library.filename == "glaucoma.pdf"
    assert not PortalDocument.objects.exists()
    assert Blob.objects.count() == 1


def test_the_library_shows_whether_each_document_is_on_any_portal(
    alice_client, bob_client, patient_a, patient_b
):

    def status() -> str:
        html = alice_client.get(reverse("office:settings_website")).content.decode()
        row = html[html.index('<th scope="row" data-label="Description">About glaucoma') :]
        return " ".join(row[: row.index("</tr>")].split())

    add_to_library(alice_client)
    library = SystemDocument.objects.get()
    assert "Not assigned to anyone" in status() and "In use" not in status()
    assert "Can be assigned" in status()
    for patient in (patient_a, patient_b, patient_b):
        bob_client.post(
            reverse("office:portal_document_assign_system", args=[patient.public_id]),
            {"document": str(library.public_id)},
        )
    assert "On 2 patients’ portals" in status()
    alice_client.post(  # portals keep the version they were given; it is still this document
        reverse("office:settings_library_replace", args=[library.public_id]),
        {"upload": named("glaucoma-2027.pdf", PDF_BYTES + b"new")},
    )
    assert "On 2 patients’ portals" in status()
    PortalDocument.objects.filter(patient=patient_b).delete()
    assert "On 1 patient’s portal" in status()
    alice_client.post(
        reverse("office:settings_library_retire", args=[library.public_id]), {"retired": "1"}
    )
    assert "Retired" in status() and "Can be assigned" not in status()


def test_assignments_made_before_the_link_are_linked_to_their_library_entry(
    alice_client, bob, bob_client, patient_a
):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "clinicportal.records.migrations.0004_portal_document_system_document"
    )
    add_to_library(alice_client)
    add_to_library(alice_client, "other.pdf", PDF_BYTES + b"other", "Other handout")
    library = SystemDocument.objects.get(description="About glaucoma")
    bob_client.post(
        reverse("office:portal_document_assign_system", args=[patient_a.public_id]),
        {"document": str(library.public_id)},
    )
    share(bob_client, patient_a, add_chart_pdf(bob, patient_a))
    PortalDocument.objects.update(system_document=None)
    migration.link_library_assignments(apps, None)
    assert dict(PortalDocument.objects.values_list("source", "system_document")) == {
        "system": library.pk,
        "chart": None,
    }


def test_retired_library_files_are_not_offered(alice_client, bob_client, patient_a):
    add_to_library(alice_client)
    library = SystemDocument.objects.get()
    alice_client.post(
        reverse("office:settings_library_retire", args=[library.public_id]), {"retired": "1"}
    )
    url = reverse("office:portal_document_assign_system", args=[patient_a.public_id])
    assert "About glaucoma" not in bob_client.get(url).content.decode()
    response = bob_client.post(url, {"document": str(library.public_id)})
    assert response.status_code == 200 and not PortalDocument.objects.exists()


def test_assign_from_another_patient_offers_only_portal_files(
    bob_client, bob, patient_a, patient_b
):
    chart_only = add_chart_pdf(bob, patient_b, "chart-only.pdf", data=PDF_BYTES + b"chart")
    upload(
        bob_client,
        patient_b,
        "shared.pdf",
        PDF_BYTES + b"shared",
        description="Shared one",
        is_education="on",
    )
    url = reverse("office:portal_document_assign_other", args=[patient_a.public_id])
    found = searched(bob_client, url, "pascal").content.decode()
    assert f"?from={patient_b.public_id}" in found
    page = bob_client.get(url, {"from": str(patient_b.public_id)}).content.decode()
    assert "Shared one" in page and chart_only.filename not in page
    source = PortalDocument.objects.get(patient=patient_b)
    response = bob_client.post(
        f"{url}?from={patient_b.public_id}", {"document": str(source.public_id)}
    )
    assert response.status_code == 302
    assigned = PortalDocument.objects.get(patient=patient_a)
    assert (assigned.source, assigned.blob_id) == ("other_patient", source.blob_id)
    bob_client.post(
        reverse("office:portal_document_remove", args=[patient_b.public_id, source.public_id])
    )
    assigned.refresh_from_db()
    assert assigned.blob is not None and Blob.objects.filter(pk=assigned.blob.pk).exists()


def test_library_and_assign_pages_are_404_for_another_practice(
    alice_client, carol_client, bob_client, patient_a, patient_c
):

    add_to_library(alice_client)
    library = SystemDocument.objects.get()
    for url in (
        reverse("office:portal_document_assign_system", args=[patient_a.public_id]),
        reverse("office:portal_document_assign_other", args=[patient_a.public_id]),
    ):
        assert carol_client.get(url).status_code == 404
    own = reverse("office:portal_document_assign_system", args=[patient_c.public_id])
    assert "About glaucoma" not in carol_client.get(own).content.decode()
    assert carol_client.post(own, {"document": str(library.public_id)}).status_code == 200
    assert not PortalDocument.objects.exists()
    other = reverse("office:portal_document_assign_other", args=[patient_c.public_id])
    assert carol_client.get(other, {"from": str(patient_a.public_id)}).status_code == 404
