"""In production the API refuses plain HTTP with a JSON error; it is never redirected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.test_settings import INHERITED_NOT, PRODUCTION_ENV, ROOT

# Requests made in a fresh process with production settings; each prints one JSON line.
SCRIPT = """
import django, json, sys
django.setup()
from django.test import Client
client = Client(HTTP_HOST="portal.example.org")
def answer(path, **extra):
    r = client.get(path, **extra)
    body = r.json() if r.get("Content-Type") == "application/json" else None
    return {"status": r.status_code, "location": r.get("Location"), "body": body}
answers = {
    "api": answer("/api/v1/openapi.json"),
    "api_unknown": answer("/api/v2/nothing"),
    "api_https": answer("/api/v1/openapi.json", secure=True),
    "api_proxied_https": answer("/api/v1/openapi.json", HTTP_X_FORWARDED_PROTO="https"),
    "healthz": answer("/healthz"),
}
if "office" in sys.argv:  # a page (rendering one needs collected static files: only redirected)
    answers["office"] = answer("/office/login/")
print(json.dumps(answers))
"""


def production_answers(tmp_path: Path, *args: str, **env: str) -> dict[str, dict]:
    clean = {k: v for k, v in os.environ.items() if k not in INHERITED_NOT}
    clean.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "CLINICPORTAL_VAR_DIR": str(tmp_path),
            **PRODUCTION_ENV,
            "CLINICPORTAL_BASE_URL": "https://portal.example.org",
            **env,
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().rpartition("\n")[2])


def test_plain_http_api_requests_are_refused_not_redirected(tmp_path: Path):
    answers = production_answers(tmp_path, "office")
    for name in ("api", "api_unknown"):
        assert answers[name]["status"] == 403
        assert answers[name]["location"] is None
        assert answers[name]["body"]["error"].startswith("The API takes requests over HTTPS only")
    assert answers["api_https"]["status"] == 200
    assert answers["api_https"]["body"]["openapi"].startswith("3.")
    # Without SECURE_PROXY_SSL_HEADER, a proxy's header is not believed.
    assert answers["api_proxied_https"]["status"] == 403
    # The site's pages are still redirected.
    assert answers["office"]["status"] == 301
    assert answers["office"]["location"] == "https://portal.example.org/office/login/"


def test_behind_a_proxy_the_api_believes_its_https_header(tmp_path: Path):
    answers = production_answers(tmp_path, SECURE_PROXY_SSL_HEADER="true")
    assert answers["api_proxied_https"]["status"] == 200
    assert answers["api"]["status"] == 403


def test_without_the_https_redirect_the_api_takes_plain_http_too(tmp_path: Path):
    answers = production_answers(tmp_path, SECURE_SSL_REDIRECT="false")
    assert answers["api"]["status"] == 200
    assert answers["healthz"]["status"] == 200  # nothing is redirected either


def test_development_takes_plain_http(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
