"""Every answer of the API is JSON: errors, malformed ids, unknown addresses, odd form parts."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from clinicportal.accounts.services.api_keys import api_key_create
from clinicportal.content.blobstore import get_blob_store
from clinicportal.content.models import blob_storage_name
from clinicportal.records.models import PortalDocument
from tests.conftest import PDF_BYTES, actor, png_bytes
from tests.test_api import endpoint, nothing_stored, post
from tests.test_records import named


@pytest.fixture
def api_key(alice) -> str:
    return api_key_create(actor=actor(alice), name="Reception printer")[1]


def json_answer(response) -> dict:
    """Return the JSON body of an API answer, checking it says it is JSON."""
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.json()


@pytest.mark.parametrize(
    "patient_id", ["not-a-uuid", "1234", "00000000-0000-4000-8000-00000000000g", "%20"]
)
def test_a_malformed_patient_id_is_the_same_json_404_as_an_unknown_one(
    api_key, patient_a, patient_id
):
    url = f"/api/v1/patients/{patient_id}/portal-documents"
    pdf = {"file": named("rx.pdf", PDF_BYTES)}
    response = Client().post(url, pdf, headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 404
    assert json_answer(response) == {"error": "No such patient."}
    # The key is checked first, as for any other id.
    anonymous = Client().post(url, {"file": named("rx.pdf", PDF_BYTES)})
    assert anonymous.status_code == 401 and "API key" in json_answer(anonymous)["error"]
    assert nothing_stored()


def test_an_upper_case_patient_id_is_the_same_patient(api_key, patient_a):
    url = f"/api/v1/patients/{str(patient_a.public_id).upper()}/portal-documents"
    response = Client().post(
        url, {"file": named("rx.pdf", PDF_BYTES)}, headers={"Authorization": f"Bearer {api_key}"}
    )
    assert response.status_code == 201
    assert PortalDocument.objects.get().patient == patient_a


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
@pytest.mark.parametrize(
    "path",
    [
        "/api",
        "/api/",
        "/api/v1",
        "/api/v1/",
        "/api/v2/patients",
        "/api/v1/nope",
        "/api/v1/openapi.json/",
        "/api/v1/patients/00000000-0000-4000-8000-000000000000/portal-documents/",
        "/api/v1/patients//portal-documents",
        "/api/v1/patients/a/b/portal-documents",
    ],
)
def test_any_other_address_under_the_api_is_a_json_404(api_key, method, path):
    response = getattr(Client(), method)(path, headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 404
    assert "openapi.json" in json_answer(response)["error"]


def test_pages_outside_the_api_keep_their_html_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_the_openapi_document_refuses_other_methods_with_a_json_405(client, db, method):
    response = getattr(client, method)("/api/v1/openapi.json")
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert "use GET" in json_answer(response)["error"]


@pytest.mark.parametrize(
    ("limit", "parts"),
    [
        ("DATA_UPLOAD_MAX_NUMBER_FILES", {"file": named("a.pdf", PDF_BYTES), "x": named("b", b"")}),
        ("DATA_UPLOAD_MAX_NUMBER_FIELDS", {"file": named("a.pdf", PDF_BYTES), "a": "1", "b": "2"}),
    ],
)
def test_too_many_parts_are_a_json_400(api_key, patient_a, settings, limit, parts):
    setattr(settings, limit, 1)
    response = Client().post(
        endpoint(patient_a), parts, headers={"Authorization": f"Bearer {api_key}"}
    )
    assert response.status_code == 400 and "Too many" in json_answer(response)["error"]
    assert nothing_stored()


def test_a_host_we_do_not_serve_is_a_json_400(db):
    response = Client(HTTP_HOST="portal.example.com").get("/api/v1/openapi.json")
    assert response.status_code == 400 and json_answer(response)["error"]


def test_storage_that_cannot_be_written_is_a_json_503(api_key, patient_a, settings, tmp_path):
    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_bytes(b"")
    settings.CLINICPORTAL_STORAGE_DIR = not_a_folder / "storage"  # uploads cannot be written
    response = Client(raise_request_exception=False).post(
        endpoint(patient_a),
        {"file": named("rx.pdf", PDF_BYTES)},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 503
    assert "did not finish" in json_answer(response)["error"]
    assert nothing_stored()


def test_a_server_error_is_a_json_500(api_key, practice_x, patient_a):
    # The same content is stored already, but damaged in place (same size, other bytes): the
    # upload that would reuse it fails its check, which is no fault of the caller's.
    sha256 = hashlib.sha256(PDF_BYTES).hexdigest()
    damaged = get_blob_store().path(blob_storage_name(practice_x.pk, sha256))
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"x" * len(PDF_BYTES))
    response = Client(raise_request_exception=False).post(
        endpoint(patient_a),
        {"file": named("rx.pdf", PDF_BYTES)},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 500 and "try again" in json_answer(response)["error"]
    assert nothing_stored()


def multipart_body(*parts: tuple[bytes, bytes], boundary: bytes = b"pr1nt3r") -> bytes:
    """Build a multipart body by hand from (headers, content) pairs, as a print driver might."""
    body = b"".join(
        b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n" for head, data in parts
    )
    return body + b"--" + boundary + b"--\r\n"


def post_raw(patient, key, body: bytes, boundary: str = "pr1nt3r"):
    return Client().post(
        endpoint(patient),
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Authorization": f"Bearer {key}"},
    )


@pytest.mark.parametrize(
    "disposition",
    [
        b'form-data; name="file"',
        b"form-data; name=file",
        b'form-data; name="file"; filename=""',
        b'form-data; filename=""; name="file"',
        b'form-data; name="file"; filename="/"',
        b'form-data; name="file"; filename=".."',
    ],
)
@pytest.mark.parametrize("padding", [0, 65_440, 65_470])  # headers, delimiter across a read
def test_a_file_part_without_a_filename_is_stored_as_document_pdf(
    api_key, patient_a, settings, disposition, padding
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 70_000  # the file is not read as a form field
    pdf = PDF_BYTES + b"\n%" + bytes(range(256)) * 300  # binary, and past a read chunk
    body = multipart_body(
        (b'Content-Disposition: form-data; name="padding"', b"x" * padding),
        (b"Content-Disposition: " + disposition, pdf),
        (b'Content-Disposition: form-data; name="description"', "Receta médica".encode()),
    )
    response = post_raw(patient_a, api_key, body)
    assert response.status_code == 201, response.content
    assert json_answer(response)["filename"] == "document.pdf"
    document = PortalDocument.objects.get()
    assert document.description == "Receta médica" and document.filename == "document.pdf"
    assert document.blob is not None
    assert document.blob.sha256 == hashlib.sha256(pdf).hexdigest() and document.blob.size == len(
        pdf
    )


def test_only_the_file_part_is_named(api_key, patient_a):
    body = multipart_body(
        (b'Content-Disposition: form-data; name="description"', b"Prescription"),
        (b'Content-Disposition: form-data; name="file"; filename="rx.pdf"', PDF_BYTES),
    )
    response = post_raw(patient_a, api_key, body)
    assert response.status_code == 201
    assert (PortalDocument.objects.get().filename, response.json()["description"]) == (
        "rx.pdf",
        "Prescription",
    )


def test_a_nameless_part_that_is_not_a_pdf_is_still_refused(api_key, patient_a):
    body = multipart_body((b'Content-Disposition: form-data; name="file"', png_bytes()))
    response = post_raw(patient_a, api_key, body)
    assert response.status_code == 400 and "PDF files only" in json_answer(response)["error"]
    assert nothing_stored()


@pytest.mark.parametrize(("sent", "stored"), [("true", True), ("TRUE", True), ("false", False)])
def test_is_education_takes_true_or_false(api_key, patient_a, sent, stored):
    response = post(patient_a, api_key, is_education=sent)
    assert response.status_code == 201 and response.json()["is_education"] is stored


@pytest.mark.parametrize("sent", ["{}", "1", "0", "yes", "on", "null", ""])
def test_is_education_refuses_anything_but_true_or_false(api_key, patient_a, sent):
    response = post(patient_a, api_key, is_education=sent)
    assert response.status_code == 400
    assert json_answer(response)["fields"] == {"is_education": ["Enter true or false."]}
    assert nothing_stored()


def test_an_empty_date_is_today_as_the_document_says(api_key, patient_a, client):
    from django.utils import timezone
    from jsonschema import Draft202012Validator

    response = post(patient_a, api_key, date="")
    assert response.status_code == 201
    assert response.json()["date"] == timezone.localdate().isoformat()
    document = client.get("/api/v1/openapi.json").json()
    date = document["components"]["schemas"]["NewPortalDocument"]["properties"]["date"]
    checker = Draft202012Validator(date, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert checker.is_valid("") and checker.is_valid("2026-11-24")
    assert not checker.is_valid("24/11/2026")


def test_form_fields_past_the_memory_limit_are_a_json_413(api_key, patient_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = post(patient_a, api_key, description="x" * 200)
    assert response.status_code == 413 and "too large" in json_answer(response)["error"]
    assert nothing_stored()
    assert len(PDF_BYTES) > 100 and post(patient_a, api_key).status_code == 201  # files don't count


def test_a_description_with_a_nul_is_refused_as_the_document_says(api_key, patient_a, client):
    from jsonschema import Draft202012Validator

    response = post(patient_a, api_key, description="Rx\x00")
    assert response.status_code == 400 and "description" in json_answer(response)["fields"]
    assert nothing_stored()
    document = client.get("/api/v1/openapi.json").json()
    schema = document["components"]["schemas"]["NewPortalDocument"]["properties"]["description"]
    assert not Draft202012Validator(schema).is_valid("Rx\x00")
    assert Draft202012Validator(schema).is_valid("Prescription, 2 × daily")
