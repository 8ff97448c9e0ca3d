"""Print to portal, sent again: an Idempotency-Key stores the document once, however often."""

from __future__ import annotations

import socket
import subprocess
import threading
from urllib.parse import urlsplit

import pytest
import requests
from django.db import connection
from django.test import Client

from clinicportal.accounts.services.api_keys import api_key_create
from clinicportal.audit.models import AuditEvent
from clinicportal.content.models import Blob
from clinicportal.practices.models import StaffMember
from clinicportal.records.models import PortalDocument, PrintRequest
from tests.conftest import PDF_BYTES, actor
from tests.races import at_once
from tests.test_api import CLIENT, endpoint, post
from tests.test_records import named

OTHER_PDF = PDF_BYTES + b"\n% another letter"


def key_of(practice) -> str:
    """A new API key of the practice, made by its admin."""
    admin = StaffMember.objects.get(practice=practice, role=StaffMember.Role.ADMIN)
    return api_key_create(actor=actor(admin), name="Print server")[1]


@pytest.fixture
def api_key(practice_x) -> str:
    return key_of(practice_x)


def printed(patient, key, idempotency_key, data=PDF_BYTES):
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key}
    return Client().post(endpoint(patient), {"file": named("rx.pdf", data)}, headers=headers)


def test_a_retry_with_the_same_key_gets_the_first_document(api_key, patient_a):
    first = printed(patient_a, api_key, "job-41")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    again = printed(patient_a, api_key, "job-41")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert PortalDocument.objects.count() == 1 and Blob.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PORTAL_DOCUMENT_SHARED).count() == 1

    # A new key (or none) is a new document, as before.
    assert printed(patient_a, api_key, "job-42").status_code == 201
    assert post(patient_a, api_key).status_code == 201
    assert PortalDocument.objects.count() == 3


def test_a_retry_after_the_office_removed_the_document_does_not_bring_it_back(
    api_key, alice, patient_a
):
    from clinicportal.records.services import portal_document_remove

    first = printed(patient_a, api_key, "job-5")
    document = PortalDocument.objects.get(public_id=first.json()["id"])
    portal_document_remove(actor=actor(alice), document=document)

    late = printed(patient_a, api_key, "job-5")
    assert late.status_code == 409
    assert "removed from the portal since" in late.json()["error"]
    assert not PortalDocument.objects.exists()
    assert printed(patient_a, api_key, "job-6").status_code == 201  # a new key puts it back


def test_a_retry_gets_the_document_as_stored_whatever_else_it_says(api_key, patient_a):
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": "job-8"}
    url = endpoint(patient_a)
    first = Client().post(
        url, {"file": named("rx.pdf", PDF_BYTES), "description": "Rx"}, headers=headers
    )
    again = Client().post(
        url, {"file": named("other.pdf", PDF_BYTES), "description": "Changed"}, headers=headers
    )
    assert again.status_code == 201 and again.json() == first.json()
    assert PortalDocument.objects.get().description == "Rx"


@pytest.mark.parametrize("change", ["patient", "file"])
def test_the_same_key_for_another_document_is_refused(api_key, patient_a, patient_b, change):
    assert printed(patient_a, api_key, "job-7").status_code == 201
    if change == "patient":
        refused = printed(patient_b, api_key, "job-7")
    else:
        refused = printed(patient_a, api_key, "job-7", data=OTHER_PDF)
    assert refused.status_code == 422
    assert "already used for another document" in refused.json()["error"]
    assert PortalDocument.objects.count() == 1 and Blob.objects.count() == 1


@pytest.mark.parametrize("value", ["", "x" * 65, "two words", "caf\u00e9"])
def test_a_malformed_key_is_400_and_stores_nothing(api_key, patient_a, value):
    refused = printed(patient_a, api_key, value)
    assert refused.status_code == 400
    assert "Idempotency-Key" in refused.json()["error"]
    assert not PortalDocument.objects.exists() and not Blob.objects.exists()


def test_keys_are_the_practice_s_own(api_key, patient_a, patient_c):
    """Another practice's program may use the same key for its own document."""
    assert printed(patient_a, api_key, "job-1").status_code == 201
    other = printed(patient_c, key_of(patient_c.practice), "job-1")
    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert PrintRequest.objects.filter(key="job-1").count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_retries_at_the_same_moment_store_one_document(live_server, alice, patient_a):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    key = key_of(alice.practice)

    def post() -> requests.Response:
        return requests.post(
            live_server.url + endpoint(patient_a),
            files={"file": ("rx.pdf", PDF_BYTES, "application/pdf")},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "job-9"},
            timeout=60,
        )

    answers = at_once(post, post)
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert PortalDocument.objects.count() == 1


class AnswerLost:
    """A proxy in front of the site that loses the site's answer to the first request.

    It passes the request on whole and waits for the site to answer, as a network that drops
    the connection on the way back would: the document is stored, and the client never hears.
    """

    def __init__(self, site: str) -> None:
        parts = urlsplit(site)
        self.site = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.keys: list[str] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                browser, _ = self.server.accept()
            except OSError:
                return
            with browser:
                request = _read_request(browser)
                head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1")
                for line in head.split("\r\n"):
                    if line.lower().startswith("idempotency-key:"):
                        self.keys.append(line.split(":", 1)[1].strip())
                with socket.create_connection(self.site) as upstream:
                    upstream.sendall(request)
                    answer = _read_answer(upstream)
                if len(self.keys) > 1:
                    browser.sendall(answer)
                # else: the first answer is lost; the connection just closes

    def close(self) -> None:
        self.server.close()


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def _read_answer(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.django_db(transaction=True)
def test_the_client_sends_again_when_the_answer_is_lost_and_it_is_stored_once(
    live_server, alice, patient_a, tmp_path
):
    key = key_of(alice.practice)
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(PDF_BYTES)
    proxy = AnswerLost(live_server.url)
    try:
        sent = subprocess.run(
            [str(CLIENT), "print-to-portal", "--patient", str(patient_a.public_id), str(pdf)],
            env={
                "PATH": "/usr/bin:/bin",
                "CLINICPORTAL_API_URL": f"http://127.0.0.1:{proxy.port}",
                "CLINICPORTAL_API_KEY": key,
            },
            capture_output=True,
            timeout=60,
        )
    finally:
        proxy.close()
    assert sent.returncode == 0, sent.stderr
    assert b"trying again in 1 s" in sent.stderr
    assert "“letter.pdf” is on the patient's portal" in sent.stdout.decode()
    assert len(proxy.keys) == 2 and proxy.keys[0] == proxy.keys[1] != ""
    assert PortalDocument.objects.count() == 1
    assert PrintRequest.objects.get().key == proxy.keys[0]


@pytest.mark.django_db(transaction=True)
def test_the_client_sends_the_key_it_is_given(live_server, alice, patient_a, tmp_path):
    key = key_of(alice.practice)
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(PDF_BYTES)
    command = [
        str(CLIENT),
        "print-to-portal",
        "--patient",
        str(patient_a.public_id),
        "--idempotency-key",
        "cups-318",
        str(pdf),
    ]
    env = {"PATH": "/usr/bin:/bin", "CLINICPORTAL_API_URL": live_server.url}
    for _ in range(2):  # the job run again: its document once
        sent = subprocess.run(
            command, env={**env, "CLINICPORTAL_API_KEY": key}, capture_output=True, timeout=60
        )
        assert sent.returncode == 0, sent.stderr
    assert PrintRequest.objects.get().key == "cups-318"
    assert PortalDocument.objects.count() == 1


class Answering:
    """A local server that answers each POST with the next of ``statuses`` (the last repeats)."""

    def __init__(self, statuses: list[int]) -> None:
        import json
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.keys: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.keys.append(self.headers.get("Idempotency-Key"))
                status = statuses[min(len(outer.keys), len(statuses)) - 1]
                body = {"error": "Busy."} if status >= 400 else {"id": "1", "filename": "a.pdf"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("statuses", "code", "tries"),
    [
        ([503, 201], 0, 2),  # busy for a moment: sent again, and taken
        ([502, 504, 503], 1, 3),  # still busy after the third try: given up, and said so
        ([400], 1, 1),  # refused: sending again would change nothing
        ([422], 1, 1),
    ],
)
def test_the_client_sends_again_only_while_the_portal_is_busy(
    monkeypatch, capsys, tmp_path, statuses, code, tries
):
    from clinicportal.api import client
    from tests.test_api import run_client

    monkeypatch.setattr(client, "RETRY_WAITS", (0.0, 0.0))
    pdf = tmp_path / "rx.pdf"
    pdf.write_bytes(PDF_BYTES)
    server = Answering(statuses)
    try:
        answer, err = run_client(monkeypatch, capsys, str(pdf), url=server.url)
    finally:
        server.close()
    assert answer == code
    assert len(server.keys) == tries
    assert len(set(server.keys)) == 1 and server.keys[0]  # one key for every try
    if code:
        assert f"The portal refused it ({statuses[-1]})" in err
