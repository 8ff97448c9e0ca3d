"""Uploads that fail part way leave nothing behind, and say so in plain words."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.content.models import Blob
from clinicportal.patients.models import ChartFile
from clinicportal.records.models import PortalDocument
from tests.conftest import PDF_BYTES, login
from tests.upload_faults import csrf_token, cut_off_post, full_disk, left_in_tmp

BIG_PDF = PDF_BYTES + b"%" + b"0" * (300 * 1024)  # several chunks of the upload handler


def named(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


@pytest.fixture
def browser_like(bob) -> Client:
    """Bob's client, checking CSRF tokens as the site does for browsers: the body is then read
    by the CSRF middleware, before any view runs."""
    return login(Client(enforce_csrf_checks=True, raise_request_exception=False), bob)


def test_a_connection_lost_mid_upload_leaves_no_partial_file(browser_like, patient_a):
    url = reverse("office:chart_file_upload", args=[patient_a.public_id])
    data = {
        "csrfmiddlewaretoken": csrf_token(browser_like, url),
        "uploads": named("scan.pdf", BIG_PDF),
        "document_date": "2026-11-20",
        "description": "Field test",
    }
    cut_off_post(browser_like, url, data, cut=len(BIG_PDF) // 2)
    assert left_in_tmp() == []
    assert not Blob.objects.exists()


UploadView = tuple[str, str, dict[str, str]]  # url name, file field, other fields
CHART: UploadView = ("office:chart_file_upload", "uploads", {})
PORTAL: UploadView = ("office:portal_document_upload", "upload", {"is_education": ""})


def post_upload(
    client: Client,
    patient,
    view: UploadView,
    *,
    headers: dict[str, str] | None = None,
    description: str = "Field test",
):
    name, file_field, extra = view
    url = reverse(name, args=[patient.public_id])
    data = {
        "csrfmiddlewaretoken": csrf_token(client, url),
        file_field: named("scan.pdf", BIG_PDF),
        "document_date": "2026-11-20",
        "description": description,
        **extra,
    }
    return client.post(url, data, headers=headers or {})


def not_finished(html: str) -> str:
    """The form-level error the page shows (not one next to a field), or fail."""
    match = re.search(r'<div id="form-errors"><p>(The upload did not finish:[^<]*)</p>', html)
    assert match, html
    return match.group(1)


@pytest.mark.parametrize("view", [CHART, PORTAL], ids=["chart", "portal"])
def test_a_full_disk_mid_upload_says_so_keeps_the_description_and_leaves_nothing(
    browser_like, patient_a, monkeypatch, caplog, view, settings
):
    full_disk(monkeypatch, room=100 * 1024)  # the upload is larger
    response = post_upload(browser_like, patient_a, view)
    html = response.content.decode()
    assert response.status_code == 503
    message = not_finished(html)
    assert "storage is full" in message and "Nothing was saved. Try again" in message
    assert 'name="description" value="Field test"' in html
    assert left_in_tmp() == []
    assert not Blob.objects.exists() and not ChartFile.objects.exists()
    assert not PortalDocument.objects.exists()
    # The operator learns it from the log: which folder is full, and nothing about the patient.
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(str(settings.CLINICPORTAL_STORAGE_DIR) in e and "full" in e for e in errors)
    assert not any(word in e for e in errors for word in ("Ada", "Lovelace", "scan", "Field"))


def test_the_progress_bar_gets_the_form_saying_the_upload_did_not_finish(
    browser_like, patient_a, monkeypatch
):
    full_disk(monkeypatch, room=100 * 1024)
    response = post_upload(browser_like, patient_a, CHART, headers={"X-Upload-Progress": "1"})
    html = response.content.decode()
    # upload.js puts the answer's <main> in place of the page's when it holds the upload form.
    assert response.status_code == 503 and response["Content-Type"].startswith("text/html")
    main = html[html.index("<main") : html.index("</main>")]
    assert "data-upload-form" in main
    assert "storage is full" in not_finished(main)
    assert 'name="description" value="Field test"' in main
    assert left_in_tmp() == []


def test_storage_that_cannot_take_the_finished_file_says_so(browser_like, patient_a, settings):
    # The upload is written to tmp/, but the folder for stored content cannot be made.
    blobs = Path(settings.CLINICPORTAL_STORAGE_DIR) / "blobs"
    blobs.parent.mkdir(parents=True)
    blobs.write_text("a file where the folder should be")
    response = post_upload(browser_like, patient_a, CHART, description="Referral")
    html = response.content.decode()
    assert response.status_code == 503
    assert "could not be written" in not_finished(html)
    assert 'name="description" value="Referral"' in html
    assert left_in_tmp() == []
    assert not Blob.objects.exists() and not ChartFile.objects.exists()


def test_the_api_says_the_upload_did_not_finish_when_the_disk_is_full(
    alice, patient_a, monkeypatch
):
    from clinicportal.accounts.services.api_keys import api_key_create
    from tests.conftest import actor

    key = api_key_create(actor=actor(alice), name="Reception printer")[1]
    full_disk(monkeypatch, room=100 * 1024)
    response = Client().post(
        f"/api/v1/patients/{patient_a.public_id}/portal-documents",
        {"file": named("rx.pdf", BIG_PDF)},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 503
    assert response.json()["error"].startswith("The upload did not finish: ")
    assert left_in_tmp() == []
    assert not Blob.objects.exists() and not PortalDocument.objects.exists()


def test_the_library_says_when_an_upload_did_not_finish(alice, monkeypatch):
    from clinicportal.practices.models import SystemDocument

    client = login(Client(enforce_csrf_checks=True, raise_request_exception=False), alice)
    token = csrf_token(client, reverse("office:settings_website"))

    def add(description: str):
        return client.post(
            reverse("office:settings_library_add"),
            {
                "csrfmiddlewaretoken": token,
                "upload": named("glaucoma.pdf", BIG_PDF),
                "description": description,
            },
        )

    assert add("About glaucoma").status_code == 302
    library = SystemDocument.objects.get()
    full_disk(monkeypatch, room=100 * 1024)
    added = add("About cataracts")
    html = added.content.decode()
    assert added.status_code == 503
    assert "storage is full" in not_finished(html)
    assert 'value="About cataracts"' in html
    replaced = client.post(
        reverse("office:settings_library_replace", args=[library.public_id]),
        {"csrfmiddlewaretoken": token, "upload": named("glaucoma-2027.pdf", BIG_PDF + b"new")},
        follow=True,
    )
    assert "The upload did not finish: the server’s file storage is full" in (
        replaced.content.decode()
    )
    library.refresh_from_db()
    assert library.filename == "glaucoma.pdf"
    assert SystemDocument.objects.count() == 1 and Blob.objects.count() == 1
    assert left_in_tmp() == []
