"""Print to portal: per-practice API keys, the API endpoint, its OpenAPI document, the client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.accounts.models import ApiKey
from clinicportal.accounts.services.api_keys import api_key_create
from clinicportal.audit.models import AuditEvent
from clinicportal.content.models import Blob
from clinicportal.practices.models import StaffMember
from clinicportal.records.models import PortalDocument
from tests.conftest import PDF_BYTES, actor, login, png_bytes
from tests.test_records import named

CLIENT = Path(sys.executable).parent / "clinicportal"


@pytest.fixture
def api_key(alice) -> str:
    return api_key_create(actor=actor(alice), name="Reception printer")[1]


def endpoint(patient) -> str:
    return reverse("api:portal_documents", args=[patient.public_id])


def post(patient, key, data=PDF_BYTES, name="rx.pdf", **fields):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Client().post(endpoint(patient), {"file": named(name, data), **fields}, headers=headers)


def nothing_stored() -> bool:
    return not PortalDocument.objects.exists() and not Blob.objects.exists()


def test_admins_create_a_key_that_is_shown_once_and_kept_only_as_a_hash(alice_client):
    url = reverse("office:settings_api_keys")
    response = alice_client.post(url, {"name": "Reception printer"})
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    key = html.split("data-api-key>")[1].split("<")[0]
    assert key.startswith("cpk_") and "shown only once" in html
    stored = ApiKey.objects.get()
    assert key not in (stored.key_hash, stored.prefix) and key.startswith(f"cpk_{stored.prefix}_")
    listed = alice_client.get(url).content.decode()
    assert "Reception printer" in listed and f"cpk_{stored.prefix}_…" in listed
    assert key not in listed
    assert AuditEvent.objects.filter(action="api_key.created").exists()
    assert alice_client.post(url, {"name": "  "}).status_code == 400
    assert ApiKey.objects.count() == 1


def test_only_admins_of_the_practice_manage_keys(alice, bob_client, api_key, practice_y):
    stored = ApiKey.objects.get()
    revoke = reverse("office:api_key_revoke", args=[stored.public_id])
    assert bob_client.get(reverse("office:settings_api_keys")).status_code == 403
    assert bob_client.post(revoke).status_code == 403
    yvonne = login(Client(), StaffMember.objects.get(user__username="yvonne"))
    assert yvonne.get(revoke).status_code == 404 and yvonne.post(revoke).status_code == 404
    assert (
        "Reception printer" not in yvonne.get(reverse("office:settings_api_keys")).content.decode()
    )
    stored.refresh_from_db()
    assert stored.is_active


def test_a_pdf_printed_to_the_portal_reaches_records(api_key, patient_a, ada_portal):
    response = post(
        patient_a, api_key, description="Prescription", date="2026-11-24", is_education="false"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    document = PortalDocument.objects.get()
    assert body["id"] == str(document.public_id) and body["patient_id"] == str(patient_a.public_id)
    assert (body["filename"], body["description"], body["date"], body["is_education"]) == (
        "rx.pdf",
        "Prescription",
        "2026-11-24",
        False,
    )
    assert document.source == "chart" and document.shared_by is None
    event = AuditEvent.objects.get(action="portal_document.shared")
    prefix = ApiKey.objects.get().prefix
    assert event.actor_name == f"API key “Reception printer” (cpk_{prefix}_…)"
    assert event.patient == patient_a
    assert ApiKey.objects.get().last_used_at is not None
    assert "Prescription" in ada_portal.get("/p/clinic-x/records/").content.decode()
    # The same PDF printed again is stored once.
    assert post(patient_a, api_key).status_code == 201
    assert Blob.objects.count() == 1 and PortalDocument.objects.count() == 2


@pytest.mark.parametrize("header", ["", "Bearer ", "Bearer cpk_nope_nope", "Basic abc", "x"])
def test_a_missing_or_wrong_key_is_401(api_key, patient_a, header):
    headers = {"Authorization": header} if header else {}
    response = Client().post(
        endpoint(patient_a), {"file": named("rx.pdf", PDF_BYTES)}, headers=headers
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "API key" in response.json()["error"]
    assert nothing_stored()


def test_a_key_with_a_changed_secret_or_a_revoked_key_is_401(alice_client, api_key, patient_a):
    assert post(patient_a, api_key[:-2] + "xx").status_code == 401
    assert not AuditEvent.objects.filter(action="api_key.refused").exists()
    wrong = AuditEvent.objects.get(action="api_key.wrong")
    assert (wrong.practice, wrong.ip, wrong.object_id) == (
        patient_a.practice,
        "127.0.0.1",
        str(ApiKey.objects.get().public_id),
    )
    secret = api_key.split("_", 2)[2]  # cpk_<prefix>_<secret>; the secret may hold "_" too
    assert not [e for e in AuditEvent.objects.values_list() if secret[:6] in str(e)]
    stored = ApiKey.objects.get()
    alice_client.post(reverse("office:api_key_revoke", args=[stored.public_id]))
    assert post(patient_a, api_key).status_code == 401
    assert nothing_stored()
    assert AuditEvent.objects.filter(action="api_key.revoked").exists()
    refused = AuditEvent.objects.get(action="api_key.refused")
    assert (refused.practice, refused.ip) == (patient_a.practice, "127.0.0.1")
    assert "Revoked" in alice_client.get(reverse("office:settings_api_keys")).content.decode()


def test_an_unknown_key_is_logged_by_its_first_characters_only(api_key, patient_a, caplog):
    guess = "cpk_0123456789ab_" + "s3cr3t" * 6
    with caplog.at_level("WARNING", logger="clinicportal.accounts.services.api_keys"):
        assert post(patient_a, guess).status_code == 401
    (record,) = [r for r in caplog.records if r.name.endswith("api_keys")]
    assert "unknown key 'cpk_0123' from 127.0.0.1" in record.getMessage()
    assert "s3cr3t" not in caplog.text and "456789ab" not in caplog.text
    assert not AuditEvent.objects.filter(action__startswith="api_key.").exclude(
        action="api_key.created"
    )


def test_wrong_keys_pause_the_address_even_for_a_right_key(api_key, patient_a):
    from clinicportal.accounts.throttle import PER_ADDRESS

    for _ in range(PER_ADDRESS):
        assert post(patient_a, "cpk_guess_guess").status_code == 401
    paused = post(patient_a, api_key)
    assert paused.status_code == 429 and paused["Retry-After"] == "900"
    assert "wait 15 minutes" in paused.json()["error"]
    assert nothing_stored()


def test_another_practices_patient_is_404_like_an_unknown_one(api_key, patient_c):
    other = post(patient_c, api_key)
    assert other.status_code == 404 and other.json() == {"error": "No such patient."}
    unknown = Client().post(
        "/api/v1/patients/00000000-0000-4000-8000-000000000000/portal-documents",
        {"file": named("rx.pdf", PDF_BYTES)},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert unknown.status_code == 404 and unknown.json() == other.json()
    assert nothing_stored()


@pytest.mark.parametrize(
    ("data", "fields", "says"),
    [
        (png_bytes(), {}, "PDF files only"),
        (b"MZ\x90\x00 not a pdf", {}, "not a file type we accept"),
        (b"", {}, "fields"),
        (PDF_BYTES, {"date": "24/11/2026"}, "fields"),
        (PDF_BYTES, {"description": "x" * 301}, "fields"),
    ],
)
def test_bad_input_is_400_and_stores_nothing(api_key, patient_a, data, fields, says):
    response = post(patient_a, api_key, data=data, **fields)
    assert response.status_code == 400
    assert says in json.dumps(response.json())
    assert nothing_stored()


def test_an_oversize_pdf_is_refused(api_key, patient_a, settings):
    settings.CLINICPORTAL_UPLOAD_MAX_BYTES = 100
    response = post(patient_a, api_key, data=PDF_BYTES + b"0" * 200)
    assert response.status_code == 400 and "limit" in response.json()["error"]
    assert nothing_stored()


def test_only_post_is_allowed(api_key, patient_a):
    response = Client().get(endpoint(patient_a), headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "use POST" in response.json()["error"]


def test_a_broken_multipart_body_is_a_json_400(api_key, patient_a):
    response = Client().post(
        endpoint(patient_a),
        data=b"--x\r\nContent-Disposition: form-data; name=file\r\n\r\nnot closed",
        content_type="multipart/form-data; boundary=",
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 400 and "multipart" in response.json()["error"]
    assert nothing_stored()


def test_keys_are_listed_active_first(alice, alice_client):
    api_key_create(actor=actor(alice), name="Old printer")
    newer, _ = api_key_create(actor=actor(alice), name="New printer")
    alice_client.post(reverse("office:api_key_revoke", args=[newer.public_id]))
    page = alice_client.get(reverse("office:settings_api_keys")).content.decode()
    table = page.split("<tbody>")[1]
    assert table.index("Old printer") < table.index("New printer")


def test_the_openapi_document_is_valid_and_describes_print_to_portal(client, db):
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")
    document = response.json()
    validate(document)
    operation = document["paths"]["/patients/{patient_id}/portal-documents"]["post"]
    codes = {"201", "400", "401", "404", "405", "409", "413", "422", "429", "500", "503"}
    assert set(operation["responses"]) == codes
    assert operation["responses"]["429"]["headers"]["Retry-After"]["required"]
    assert set(document["paths"]["/openapi.json"]["get"]["responses"]) == {"200", "405", "500"}
    assert document["servers"] == [{"url": "http://testserver/api/v1"}]


@pytest.mark.django_db(transaction=True)
def test_the_command_line_client_sends_a_file_or_standard_input(
    live_server, practice_x, alice, patient_a, patient_c, tmp_path
):
    key = api_key_create(actor=actor(alice), name="Printer")[1]
    pdf = tmp_path / "prescription.pdf"
    pdf.write_bytes(PDF_BYTES)
    env = {"PATH": "/usr/bin:/bin", "CLINICPORTAL_API_URL": live_server.url}

    def run(*args: str, key: str = key, stdin: bytes | None = None):
        return subprocess.run(
            [str(CLIENT), "print-to-portal", *args],
            input=stdin,
            env={**env, "CLINICPORTAL_API_KEY": key},
            capture_output=True,
            timeout=60,
        )

    sent = run("--patient", str(patient_a.public_id), "--description", "Prescription", str(pdf))
    assert sent.returncode == 0, sent.stderr
    assert "“prescription.pdf” is on the patient's portal" in sent.stdout.decode()
    piped = run(
        "--patient",
        str(patient_a.public_id),
        "--education",
        "--filename",
        "lens-care.pdf",
        "-",
        stdin=PDF_BYTES + b"\n% printed",
    )
    assert piped.returncode == 0, piped.stderr
    documents = {d.filename: d for d in PortalDocument.objects.all()}
    assert documents.keys() == {"prescription.pdf", "lens-care.pdf"}
    assert documents["lens-care.pdf"].is_education
    assert documents["prescription.pdf"].description == "Prescription"

    refused = run("--patient", str(patient_a.public_id), str(pdf), key="cpk_wrong_key")
    assert refused.returncode == 1 and b"(401)" in refused.stderr
    elsewhere = run("--patient", str(patient_c.public_id), str(pdf))
    assert elsewhere.returncode == 1 and b"(404): No such patient." in elsewhere.stderr
    missing = run("--patient", str(patient_a.public_id), str(tmp_path / "nope.pdf"))
    assert missing.returncode == 1 and b"Cannot read" in missing.stderr
    assert PortalDocument.objects.count() == 2


def test_a_hostile_filename_is_kept_as_harmless_text(api_key, patient_a, ada_portal):
    response = post(patient_a, api_key, name="..\\..\\<img src=x onerror=alert(1)>\x07.pdf")
    assert response.status_code == 201
    document = PortalDocument.objects.get()
    assert document.filename == "<img src=x onerror=alert(1)>.pdf"  # no folders, no controls
    assert document.blob is not None  # stored under its hash, never under the given name
    assert document.blob.storage_name.endswith(f"/{document.blob.sha256}")
    records = ada_portal.get("/p/clinic-x/records/").content.decode()
    assert "<img src=x" not in records and "&lt;img src=x onerror=alert(1)&gt;.pdf" in records


def run_client(monkeypatch, capsys, *args: str, url: str, key: str = "cpk_abc_secret"):
    from clinicportal.api.client import main

    monkeypatch.setenv("CLINICPORTAL_API_KEY", key)
    code = main(["--url", url, "--patient", "00000000-0000-4000-8000-000000000000", *args])
    return code, capsys.readouterr().err


def test_the_client_sends_the_key_only_over_https_or_to_this_machine(monkeypatch, capsys, tmp_path):
    pdf = tmp_path / "rx.pdf"
    pdf.write_bytes(PDF_BYTES)
    code, err = run_client(monkeypatch, capsys, str(pdf), url="http://portal.example.org")
    assert code == 1 and "is not https" in err
    code, err = run_client(monkeypatch, capsys, str(pdf), url="ftp://portal.example.org")
    assert code == 1 and "Give the portal's address" in err
    bad_key = tmp_path / "key"
    bad_key.write_bytes(b"\xff\xfe")
    code, err = run_client(
        monkeypatch, capsys, "--key-file", str(bad_key), str(pdf), url="https://portal.example.org"
    )
    assert code == 1 and "does not hold an API key" in err


def test_the_client_never_follows_a_redirect_with_the_key(monkeypatch, capsys, tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[tuple[str, str | None]] = []

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            self.send_response(301)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST

        def log_message(self, format, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    pdf = tmp_path / "rx.pdf"
    pdf.write_bytes(PDF_BYTES)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        code, err = run_client(monkeypatch, capsys, str(pdf), url=url)
    finally:
        server.shutdown()
        server.server_close()
    assert code == 1 and "redirect to http://127.0.0.1:9/elsewhere" in err
    assert len(seen) == 1  # one request, to the address given; nothing followed
