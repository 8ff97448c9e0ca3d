from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_the_database_and_storage(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "storage": "ok"}


def test_readyz_is_503_when_storage_is_unreachable(client, db, settings, tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the storage folder should be")
    settings.CLINICPORTAL_STORAGE_DIR = blocker
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["storage"] == "unreachable"


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path):
    # A real process whose database URL points at a closed port on this machine.
    script = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/readyz'); print(r.status_code, json.dumps(r.json()))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CLINICPORTAL_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/none?connect_timeout=2",
        "ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    status, _, body = result.stdout.strip().rpartition("\n")[2].partition(" ")
    assert status == "503", result.stderr
    assert json.loads(body) == {"status": "unavailable", "database": "unreachable", "storage": "ok"}


def test_readyz_leaves_no_file_behind_when_the_storage_is_full(client, db, monkeypatch):
    from tests.upload_faults import full_disk, left_in_tmp

    full_disk(monkeypatch, room=0)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["storage"] == "unreachable"
    assert left_in_tmp() == []


def test_readyz_runs_every_check_an_app_registers(client, db, monkeypatch):
    from clinicportal.core import health

    monkeypatch.setattr(health, "_checks", dict(health._checks))

    def search_index() -> None:
        raise ConnectionError("the index is down")

    health.readiness_check_register("search", search_index)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "storage": "ok",
        "search": "unreachable",
    }


def test_the_worker_probe_is_the_one_notifications_registers(client, db):
    from clinicportal.core import health
    from clinicportal.notifications.health import worker_probe

    assert health._probes["worker"] is worker_probe
    response = client.get("/readyz/worker")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "worker_last_seen": None}


def test_readyz_writes_to_the_storage_at_most_once_a_minute(client, db, monkeypatch):
    from clinicportal.content import blobstore
    from tests.upload_faults import full_disk, left_in_tmp

    disk = full_disk(monkeypatch, room=len(b"ready"))  # room for one probe file, no more
    assert client.get("/readyz").status_code == 200
    assert disk.room == 0  # the first request wrote its file
    # Had the second written too, the full disk would have made it 503.
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok", "storage": "ok"}
    a_minute_on = blobstore.monotonic() + blobstore.READY_WRITE_SECONDS
    monkeypatch.setattr(blobstore, "monotonic", lambda: a_minute_on)
    response = client.get("/readyz")  # a minute on, it writes again and finds the disk full
    assert response.status_code == 503
    assert response.json()["storage"] == "unreachable"
    assert left_in_tmp() == []
