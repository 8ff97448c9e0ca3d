"""Settings come from the environment; bad values stop start-up, production passes --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INHERITED_NOT = {
    "DATABASE_URL",
    "DEBUG",
    "SECRET_KEY",
    "CLINICPORTAL_SECRETS_KEYS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "CLINICPORTAL_BASE_URL",
}
GOOD_SECRET = "x" * 20 + "-production-secret-key-for-the-deploy-check-0123456789"
GOOD_SECRETS_KEY = "q" * 43 + "="  # 32 bytes, url-safe base64: a valid Fernet key


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # A fresh process with only the settings under test: nothing from this test run leaks in.
    clean = {k: v for k, v in os.environ.items() if k not in INHERITED_NOT}
    clean.update(
        {"CLINICPORTAL_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    )
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "nosuchdb://localhost/x"),
        ("CLINICPORTAL_UPLOAD_MAX_BYTES", "50MB"),
        ("CLINICPORTAL_ENV", "staging"),
        ("SECRET_KEY", "too-short"),
        ("CLINICPORTAL_MEDLINEPLUS_URL", "file:///etc/passwd"),
        ("CLINICPORTAL_BREACHED_PASSWORDS_URL", "file:///etc/passwd"),
        ("CLINICPORTAL_BREACHED_PASSWORDS_URL", "https://api.pwnedpasswords.com/range"),
        ("CLINICPORTAL_CLAMD", "clamd-without-a-port"),
        ("CLINICPORTAL_SECRETS_KEYS", "not-a-fernet-key"),
        ("CLINICPORTAL_BASE_URL", "portal.example.org"),
        ("CLINICPORTAL_BASE_URL", "https://portal.example.org/p/clinic/"),
        ("CLINICPORTAL_BASE_URL", "https://user:pw@portal.example.org"),
        ("CLINICPORTAL_TRUSTED_PROXIES", "10.0.0.5/8"),
        ("CLINICPORTAL_SMTP_ALLOW_PRIVATE", "sometimes"),
        ("CLINICPORTAL_DB_PREPARED", "perhaps"),
        ("CLINICPORTAL_TRUSTED_PROXIES", "10.0.0.1, balancer.internal"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_variable(tmp_path, variable, value):
    result = run(["check"], tmp_path, **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr
    assert "Traceback" not in result.stderr


def test_production_requires_a_secret_key(tmp_path):
    result = run(
        ["check"], tmp_path, CLINICPORTAL_ENV="production", ALLOWED_HOSTS="portal.example.org"
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_requires_a_key_for_stored_secrets(tmp_path):
    result = run(
        ["check"],
        tmp_path,
        CLINICPORTAL_ENV="production",
        SECRET_KEY=GOOD_SECRET,
        ALLOWED_HOSTS="portal.example.org",
    )
    assert result.returncode != 0
    assert "CLINICPORTAL_SECRETS_KEYS must be set" in result.stderr


@pytest.mark.parametrize(("name", "length"), [("secret_key", 50), ("secrets_key", 44)])
def test_development_keys_are_generated_once_and_kept_private(tmp_path, name, length):
    assert run(["check"], tmp_path).returncode == 0
    key_file = tmp_path / name
    first = key_file.read_text()
    assert len(first) >= length
    assert key_file.stat().st_mode & 0o077 == 0
    assert run(["check"], tmp_path).returncode == 0
    assert key_file.read_text() == first


def test_processes_starting_at_once_on_a_new_machine_share_one_key_of_each(tmp_path):
    """The two test passes of CI started at once and one died on the other's new key file."""
    script = (
        "import sys, django; django.setup(); from django.conf import settings; "
        "print(settings.SECRET_KEY, settings.CLINICPORTAL_SECRETS_KEYS[0])"
    )
    clean = {k: v for k, v in os.environ.items() if k not in INHERITED_NOT}
    clean.update(
        {"CLINICPORTAL_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    )
    for _ in range(3):  # the race is narrow: start several at once, a few times over
        for name in ("secret_key", "secrets_key"):
            (tmp_path / name).unlink(missing_ok=True)
        started = [
            subprocess.Popen(
                [sys.executable, "-c", script],
                cwd=ROOT,
                env=clean,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        finished = [process.communicate(timeout=120) for process in started]
        assert [process.returncode for process in started] == [0] * 6, finished
        assert len({out for out, _ in finished}) == 1  # one key of each, the same in every one
        assert (tmp_path / "secret_key").read_text() in finished[0][0]
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


@pytest.mark.parametrize("name", ["secret_key", "secrets_key"])
def test_a_key_file_made_meanwhile_by_another_process_is_taken_as_it_is(
    tmp_path, monkeypatch, name
):
    """Another process makes the file between this one's look and its write: this one reads
    that file (before, it died with FileExistsError) and leaves no file of its own behind."""
    from config import env

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("CLINICPORTAL_SECRETS_KEYS", raising=False)
    make = {"secret_key": env.secret_key, "secrets_key": env.secrets_keys}[name]
    first = make(production=False, var_dir=tmp_path)
    real_exists = Path.exists
    # This process looks before the other one's file is there, then writes after it is.
    monkeypatch.setattr(Path, "exists", lambda path: path.name != name and real_exists(path))
    assert make(production=False, var_dir=tmp_path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


PRODUCTION_ENV = {
    "CLINICPORTAL_ENV": "production",
    "SECRET_KEY": GOOD_SECRET,
    "CLINICPORTAL_SECRETS_KEYS": GOOD_SECRETS_KEY,
    "ALLOWED_HOSTS": "portal.example.org",
}


def test_production_requires_the_base_url_that_email_links_start_with(tmp_path):
    result = run(["check"], tmp_path, **PRODUCTION_ENV)
    assert result.returncode != 0
    assert "CLINICPORTAL_BASE_URL must be set in production" in result.stderr
    plain = run(
        ["check"], tmp_path, **PRODUCTION_ENV, CLINICPORTAL_BASE_URL="http://portal.example.org"
    )
    assert plain.returncode != 0
    assert "CLINICPORTAL_BASE_URL must be an https:// address" in plain.stderr


def test_the_production_profile_passes_the_deploy_check_without_warnings(tmp_path):
    result = run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        **{**PRODUCTION_ENV, "ALLOWED_HOSTS": "portal.example.org,office.example.org"},
        CLINICPORTAL_BASE_URL="https://portal.example.org",
        CLINICPORTAL_OFFICE_URL="https://office.example.org",
        CLINICPORTAL_CLAMD="/run/clamav/clamd.ctl",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_warns_while_the_office_shares_the_portals_host(tmp_path):
    for office in ("", "https://portal.example.org", "https://portal.example.org:8443"):
        result = run(
            ["check", "--deploy"],
            tmp_path,
            **PRODUCTION_ENV,
            CLINICPORTAL_BASE_URL="https://portal.example.org",
            CLINICPORTAL_OFFICE_URL=office,
        )
        assert "core.W001" in result.stdout + result.stderr
        assert "The office shares the portal's host" in result.stdout + result.stderr
    plain = run(["check"], tmp_path)  # not a deployment: nothing said
    assert "core.W001" not in plain.stdout + plain.stderr
    unlisted = run(
        ["check", "--deploy"],
        tmp_path,
        **PRODUCTION_ENV,
        CLINICPORTAL_BASE_URL="https://portal.example.org",
        CLINICPORTAL_OFFICE_URL="https://office.example.org",
    )
    assert "core.W002" in unlisted.stdout + unlisted.stderr
    assert "ALLOWED_HOSTS leaves out the office's host, office.example.org" in unlisted.stderr
    insecure = run(
        ["check"],
        tmp_path,
        **PRODUCTION_ENV,
        CLINICPORTAL_BASE_URL="https://portal.example.org",
        CLINICPORTAL_OFFICE_URL="http://office.example.org",
    )
    assert insecure.returncode != 0
    assert "CLINICPORTAL_OFFICE_URL must be an https:// address" in insecure.stderr


def test_the_deploy_check_warns_while_uploads_are_not_scanned(tmp_path):
    result = run(
        ["check", "--deploy"],
        tmp_path,
        **PRODUCTION_ENV,
        CLINICPORTAL_BASE_URL="https://portal.example.org",
    )
    assert "content.W001" in result.stdout + result.stderr
    assert "Uploads are not scanned for viruses" in result.stdout + result.stderr
    plain = run(["check"], tmp_path)  # not a deployment: nothing said
    assert "content.W001" not in plain.stdout + plain.stderr


def test_the_console_script_runs_management_commands(tmp_path):
    script = Path(sys.executable).with_name("clinicportal")
    result = subprocess.run(
        [str(script), "help", "demo_load"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CLINICPORTAL_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert "Clearview Eye Care" in result.stdout


def test_production_leaves_out_the_demo_and_its_commands(tmp_path):
    production = run(
        ["help", "--commands"],
        tmp_path,
        **PRODUCTION_ENV,
        CLINICPORTAL_BASE_URL="https://portal.example.org",
    )
    assert production.returncode == 0, production.stderr
    listed = production.stdout.split()
    assert "migrate" in listed
    assert not {"demo_load", "demo_code", "demo_smtp", "generate_patients"} & set(listed)
    development = run(["help", "--commands"], tmp_path)
    assert development.returncode == 0, development.stderr
    assert {"demo_load", "demo_code", "demo_smtp", "generate_patients"} <= set(
        development.stdout.split()
    )
