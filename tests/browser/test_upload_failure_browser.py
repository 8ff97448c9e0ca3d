"""An upload that does not finish says so on the form, with what was typed kept."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clinicportal.content.blobstore import get_blob_store
from clinicportal.content.models import blob_storage_name
from clinicportal.patients.models import ChartFile
from tests.browser.test_office_browser import sign_in
from tests.conftest import PDF_BYTES
from tests.upload_faults import full_disk, left_in_tmp

pytestmark = pytest.mark.browser

SCAN = PDF_BYTES + b"%" + b"0" * (300 * 1024)


def choose_and_upload(page, axe, patient, scan: Path) -> None:
    page.goto(f"/office/patients/{patient.public_id}/files/upload/")
    axe.check(page)
    page.get_by_label("Files").set_input_files(str(scan))
    page.get_by_label("Description").fill("Visual field test")
    page.get_by_role("button", name="Upload").click()


def test_a_full_disk_is_said_in_the_form(page, axe, bob, patient_a, monkeypatch, tmp_path):
    scan = tmp_path / "Field test.pdf"
    scan.write_bytes(SCAN)
    sign_in(page, axe)
    full_disk(monkeypatch, room=100 * 1024)
    choose_and_upload(page, axe, patient_a, scan)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The upload did not finish: the server’s file storage is full")
    expect(alert).to_be_focused()
    expect(page.get_by_label("Description")).to_have_value("Visual field test")
    axe.check(page)
    assert not ChartFile.objects.exists() and left_in_tmp() == []


def test_a_server_error_is_said_in_the_form_instead_of_replacing_it(
    page, axe, bob, patient_a, tmp_path
):
    scan = tmp_path / "Field test.pdf"
    scan.write_bytes(SCAN)
    # The same content is stored already but damaged in place: the server fails with a 500.
    stored = get_blob_store().path(
        blob_storage_name(bob.practice.pk, hashlib.sha256(SCAN).hexdigest())
    )
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"x" * len(SCAN))
    sign_in(page, axe)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        choose_and_upload(page, axe, patient_a, scan)
    assert answer.value.status == 500
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The upload did not finish: ")
    expect(alert).to_contain_text("Nothing was saved. Try again")
    expect(alert).to_be_focused()
    # The form is still there as it was: the description, and the file still chosen.
    expect(page.get_by_label("Description")).to_have_value("Visual field test")
    assert page.get_by_label("Files").evaluate("input => input.files.length") == 1
    expect(page.get_by_role("button", name="Upload")).to_be_enabled()
    expect(page.locator("[data-upload-progress]")).to_be_hidden()
    axe.check(page)
    assert not ChartFile.objects.exists()
