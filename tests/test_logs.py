"""Logs: one JSON object a line, with the request's id, practice and actor; no patient data,
no secrets, no query strings; nothing logged can start a line of its own."""

from __future__ import annotations

import http.client
import io
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.accounts.services.api_keys import api_key_create
from clinicportal.core.logformat import ContextFilter, JsonFormatter, TextFormatter
from tests.conftest import PDF_BYTES, actor, free_port
from tests.test_notifications import _link_from
from tests.test_records import named

ROOT = Path(__file__).resolve().parent.parent


class Captured:
    """What the project's formatter wrote, as raw text and as parsed lines."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self, logger: str | None = None) -> list[dict[str, Any]]:
        parsed = [json.loads(line) for line in self.text.splitlines()]
        return [line for line in parsed if logger is None or line["logger"] == logger]

    def access(self) -> dict[str, Any]:
        (line,) = self.lines("clinicportal.access")
        return line


@pytest.fixture
def logs() -> Iterator[Captured]:
    """The root logger's lines, formatted as settings.LOGGING formats them by default."""
    captured = Captured()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield captured
    finally:
        root.removeHandler(handler)


def test_a_request_writes_a_json_line_with_the_id_its_response_carries(client, db, logs):
    response = client.get("/healthz")
    line = logs.access()
    assert line["request_id"] == response["X-Request-ID"]
    assert len(response["X-Request-ID"]) == 32
    assert line["actor"] == "anonymous" and line["practice"] is None
    assert (line["level"], line["method"], line["path"], line["status"]) == (
        "INFO",
        "GET",
        "/healthz",
        200,
    )
    assert line["time"].endswith("Z")
    assert datetime.fromisoformat(line["time"]).utcoffset() == timedelta(0)
    assert client.get("/healthz")["X-Request-ID"] != response["X-Request-ID"]


def test_an_office_request_names_the_practice_and_the_staff_member(alice_client, alice, logs):
    response = alice_client.get(reverse("office:patients"))
    line = logs.access()
    assert line["request_id"] == response["X-Request-ID"]
    assert line["practice"] == alice.practice.slug
    assert line["actor"] == f"staff:{alice.user.pk}"


def test_a_portal_request_names_the_account(ada_portal, practice_x, logs):
    from clinicportal.accounts.models import PortalAccount

    response = ada_portal.get(reverse("portal:home", args=[practice_x.slug]))
    account = PortalAccount.objects.get(username="ada")
    line = logs.access()
    assert line["request_id"] == response["X-Request-ID"]
    assert (line["practice"], line["actor"]) == (practice_x.slug, f"portal:{account.pk}")


def test_an_api_request_names_the_key_and_never_the_key_itself(alice, patient_a, logs):
    stored, key = api_key_create(actor=actor(alice), name="Reception printer")
    response = Client().post(
        reverse("api:portal_documents", args=[patient_a.public_id]),
        {"file": named("Lovelace-eye-exam.pdf", PDF_BYTES), "description": "Ada's exam"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201
    line = logs.access()
    assert line["request_id"] == response["X-Request-ID"]
    assert (line["practice"], line["actor"]) == (alice.practice.slug, f"api:{stored.pk}")
    for secret in (key, "Lovelace", "Ada"):
        assert secret not in logs.text


def test_a_visitor_at_a_portal_is_anonymous_at_that_practice(client, practice_x, logs):
    client.post(
        reverse("portal:login", args=[practice_x.slug]),
        {"username": "lovelace", "password": "wrong-horse-battery-staple"},
    )
    line = logs.access()
    assert (line["practice"], line["actor"]) == (practice_x.slug, "anonymous")
    assert "wrong-horse" not in logs.text and "lovelace" not in logs.text


def test_every_line_of_a_request_carries_its_id(bob_client, bob, logs):
    path = reverse("office:patient", args=[uuid.uuid4()])
    response = bob_client.get(path)
    assert response.status_code == 404
    not_found, access = logs.lines("django.request"), logs.access()
    assert [line["message"] for line in not_found] == [f"Not Found: {path}"]
    assert not_found[0]["request_id"] == access["request_id"] == response["X-Request-ID"]
    assert not_found[0]["actor"] == f"staff:{bob.user.pk}"


def test_query_strings_are_never_logged(alice_client, logs):
    alice_client.get(reverse("office:patients") + "?q=Lovelace&dob=1980-04-02")
    alice_client.get("/office/no-such-page/?q=Lovelace")
    # The whole date: the lines' request ids are hex, and may spell "1980".
    assert "Lovelace" not in logs.text and "1980-04-02" not in logs.text
    assert logs.lines("clinicportal.access")[0]["path"] == reverse("office:patients")


def test_a_single_use_links_token_is_hidden_in_every_line(client, practice_x, logs):
    token = "s3cret-link-token-9f8e7d"
    response = client.get(reverse("portal:password_link", args=[practice_x.slug, token]))
    assert response.status_code == 410
    assert token not in logs.text
    (gone,) = logs.lines("django.request")
    assert gone["message"] == f"Gone: /p/{practice_x.slug}/password/[hidden]/"
    assert logs.access()["path"] == f"/p/{practice_x.slug}/password/[hidden]/"


def test_a_token_is_hidden_even_when_the_request_is_refused_before_routing(
    client, practice_x, logs
):
    token = "s3cret-link-token-9f8e7d"
    path = reverse("portal:password_link", args=[practice_x.slug, token])
    assert client.get(path, HTTP_HOST="evil.example").status_code == 400
    assert token not in logs.text
    assert logs.access()["path"] == f"/p/{practice_x.slug}/password/[hidden]/"


def test_a_token_is_hidden_when_a_link_lost_its_final_slash(client, practice_x, logs):
    token = "s3cret-link-token-1a2b3c"
    path = reverse("portal:password_link", args=[practice_x.slug, token]).rstrip("/")
    assert client.get(path).status_code == 301  # the final slash is added by a redirect
    assert token not in logs.text
    assert logs.access()["path"] == f"/p/{practice_x.slug}/password/[hidden]"


@pytest.mark.urls("tests.error_urls")
def test_a_logged_exception_has_no_data_from_the_request(alice, logs):
    client = Client(raise_request_exception=False)
    client.force_login(alice.user)
    response = client.post(
        "/office/broken-with-data/", {"name": "Ada Lovelace", "email": "ada@example.com"}
    )
    assert response.status_code == 500
    (error,) = logs.lines("django.request")
    assert error["level"] == "ERROR"
    assert error["message"] == "Internal Server Error: /office/broken-with-data/"
    assert error["exception"]["type"] == "builtins.ValueError"
    assert any("broken_with_data" in frame for frame in error["exception"]["stack"])
    assert error["request_id"] == response["X-Request-ID"]
    assert error["actor"] == f"staff:{alice.user.pk}"
    assert "Lovelace" not in logs.text and "ada@example.com" not in logs.text


def test_nothing_logged_can_start_a_new_line(logs):
    forged = 'x\n{"level": "INFO", "message": "forged"}\r\u2028\u2029\x85\x1b[31m'
    try:
        raise RuntimeError(forged)
    except RuntimeError:
        logging.getLogger("clinicportal.test").warning("got %s", forged, exc_info=True)
    (raw,) = logs.text.splitlines()  # str.splitlines splits at every one of those too
    assert json.loads(raw)["message"] == f"got {forged}"
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, "got %s", (forged,), None)
    ContextFilter().filter(record)
    assert len(TextFormatter().format(record).splitlines()) == 1


@pytest.mark.django_db(transaction=True)
def test_the_workers_lines_name_it_and_its_task_and_no_address(
    ada_portal, email_settings, smtp_server, logs
):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    Client().post("/p/clinic-x/forgot/", {"identifier": "ADA@example.com"})
    task = DBTaskResult.objects.get()
    call_command("db_worker", "--batch", "--no-startup-delay", "--worker-id", "w1", verbosity=1)
    assert len(smtp_server.messages) == 1
    worker = [line for line in logs.lines() if line.get("worker") == "w1"]
    assert worker[0]["message"] == "Starting worker worker_id=w1"
    assert {line["actor"] for line in worker} == {"worker:w1"}
    assert {line["request_id"] for line in worker} == {None}
    (running,) = [line for line in worker if "state=RUNNING" in line["message"]]
    assert running["task"] == str(task.id)
    link = _link_from(smtp_server)
    assert "ada@example.com" not in logs.text.lower() and link not in logs.text


def run(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """A request in a fresh process, logged as settings.LOGGING says."""
    script = (
        "from django.test import Client; "
        "r = Client(raise_request_exception=False)"
        ".get('/p/clinic-x/password/t0ken/?q=Ada', HTTP_HOST='localhost'); "
        "print(r['X-Request-ID'])"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLINICPORTAL_", "LOG_"))}
    clean |= {"CLINICPORTAL_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_settings_write_json_lines_to_stderr_by_default(tmp_path):
    result = run({}, tmp_path)
    request_id = result.stdout.strip()
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    (access,) = [line for line in lines if line["logger"] == "clinicportal.access"]
    assert access["request_id"] == request_id and access["actor"] == "anonymous"
    assert "t0ken" not in result.stderr and "Ada" not in result.stderr


def test_the_text_format_is_one_readable_line_a_record(tmp_path):
    result = run({"CLINICPORTAL_LOG_FORMAT": "text"}, tmp_path)
    request_id = result.stdout.strip()
    (access,) = [line for line in result.stderr.splitlines() if "clinicportal.access" in line]
    assert f"request_id={request_id}" in access and "actor=anonymous" in access
    assert "t0ken" not in result.stderr


def test_an_unknown_log_format_stops_start_up(tmp_path):
    result = run({"CLINICPORTAL_LOG_FORMAT": "xml"}, tmp_path)
    assert result.returncode != 0 and "CLINICPORTAL_LOG_FORMAT" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_refused_email_is_logged_by_its_number_and_code_never_its_address(
    alice_client, email_settings, smtp_server, logs
):
    from clinicportal.notifications.models import OutboxEmail
    from tests.conftest import run_worker

    async def refuse(server, session, envelope):
        return "550 5.1.1 <ada@example.com>: Recipient address rejected"

    smtp_server.handle_DATA = refuse
    alice_client.post(reverse("office:settings_email"), {"action": "test", "to": "ada@example.com"})
    run_worker()
    email = OutboxEmail.objects.get()
    assert "ada@example.com" in email.last_error  # for staff, in the Outbox
    (warning,) = logs.lines("clinicportal.notifications.delivery")
    assert warning["message"] == f"email {email.pk} not sent (attempt 1): SMTPDataError 550"
    assert warning["actor"].startswith("worker:")
    assert "ada@example.com" not in logs.text


def test_a_readiness_failure_is_logged_by_its_type_and_code_never_its_message(
    client, db, logs, monkeypatch
):
    from clinicportal.core import health

    monkeypatch.setattr(health, "_checks", dict(health._checks))

    def search_index() -> None:
        raise ConnectionRefusedError(111, "refused by search.internal as user ada@example.com")

    health.readiness_check_register("search", search_index)
    assert client.get("/readyz").status_code == 503
    (failed,) = logs.lines("clinicportal.core.health")
    assert failed["message"] == "readiness: search unreachable: ConnectionRefusedError ECONNREFUSED"
    assert failed["exception"]["type"] == "builtins.ConnectionRefusedError"
    assert failed["exception"]["code"] == "ECONNREFUSED"
    assert "ada@example.com" not in logs.text


def test_under_gunicorn_every_line_on_stderr_is_json_with_the_request_id(tmp_path):
    """gunicorn reads gunicorn.conf.py from where it starts: its own lines are JSON too."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLINICPORTAL_", "LOG_"))}
    env = clean | {
        "CLINICPORTAL_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "-w",
        "1",
        "-b",
        f"127.0.0.1:{port}",
    ]
    with (tmp_path / "stderr").open("w+") as stderr:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=stderr)
        try:
            request_id = _get_request_id(port, "/healthz?q=Lovelace")
        finally:
            server.terminate()
            server.wait(timeout=30)
        stderr.seek(0)
        output = stderr.read()
    lines = [json.loads(line) for line in output.splitlines()]
    assert any(line["logger"] == "gunicorn.error" for line in lines)
    (access,) = [line for line in lines if line["logger"] == "clinicportal.access"]
    assert access["request_id"] == request_id and access["path"] == "/healthz"
    assert "Lovelace" not in output


def _get_request_id(port: int, path: str) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.status == 200
            return str(response.getheader("X-Request-ID"))
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
