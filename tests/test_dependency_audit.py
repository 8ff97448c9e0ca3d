"""tools/audit_dependencies.py holds the lock to the time frames of docs/security.md (ASVS
15.1.1, 15.2.1), against a local server that answers like PyPI's JSON API."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.local_server import LocalServer, QuietHandler
from tools.audit_dependencies import requirements

ROOT = Path(__file__).resolve().parent.parent
TODAY = datetime.date(2026, 11, 30)


def release(days_ago: int, *, yanked: bool = False, python: str | None = None) -> list:
    day = TODAY - datetime.timedelta(days=days_ago)
    return [
        {"upload_time": f"{day.isoformat()}T12:00:00", "yanked": yanked, "requires_python": python}
    ]


class FakeIndex(LocalServer):
    """``projects``: name → {version: files}; ``vulnerable``: (name, version) → the
    vulnerabilities of that version, served at /pypi/<name>/<version>/json when
    ``per_version`` (PyPI does; a mirror may not)."""

    def __init__(self) -> None:
        self.projects: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.vulnerable: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.per_version = True
        self.failures = 0  # answer this many requests with 503 first
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if fake.failures:
                    fake.failures -= 1
                    self.send_error(503)
                    return
                parts = self.path.strip("/").split("/")
                name = parts[1] if len(parts) > 2 else ""
                releases = fake.projects.get(name)
                if releases is None or (len(parts) == 4 and not fake.per_version):
                    self.send_error(404)
                    return
                newest = max(releases, key=lambda v: tuple(map(int, v.split("."))))
                version = parts[2] if len(parts) == 4 else newest
                body = json.dumps(
                    {
                        "info": {"name": name, "version": newest},
                        "releases": releases,
                        "vulnerabilities": fake.vulnerable.get((name, version), []),
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler, "/pypi")


def audit(
    tmp_path: Path, index: str, *pins: str, exceptions: str = ""
) -> subprocess.CompletedProcess[str]:
    lock = tmp_path / "requirements.lock"
    lock.write_text("".join(f"{pin}\n    # via something\n" for pin in pins))
    recorded = tmp_path / "audit_exceptions.txt"
    recorded.write_text(exceptions)
    args = ["--lock", lock, "--index", index, "--today", TODAY, "--exceptions", recorded]
    return subprocess.run(
        [sys.executable, "tools/audit_dependencies.py", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_what_the_site_runs_with_is_told_from_build_and_test_tools() -> None:
    runtime = set(requirements())
    assert {"django", "psycopg", "psycopg-binary", "weasyprint", "stripe"} <= runtime
    assert "asgiref" in runtime  # Django's own requirement
    assert not {"pytest", "ruff", "mypy", "playwright", "faker", "aiosmtpd"} & runtime
    locked = requirements(extras=("demo", "dev"))
    assert {"pytest", "ruff", "faker"} <= set(locked) and set(runtime) <= set(locked)
    assert "6.2" not in locked["django"] and "6.1.9" in locked["django"]


def test_only_a_release_the_locks_ranges_allow_on_this_python_is_due(tmp_path: Path) -> None:
    """What make lock could not move to (Django's next series, a release for a newer Python)
    is no reason to move."""
    with FakeIndex() as index:
        index.projects["django"] = {
            "6.1.3": release(60),
            "6.1.4": release(40, python=">=3.99"),
            "6.2.0": release(40),
        }
        finished = audit(tmp_path, index.url, "django==6.1.3")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "1 locked packages checked: 0 past their time frame, 0 due later." in finished.stdout


def test_a_runtime_component_behind_a_release_older_than_thirty_days_fails(
    tmp_path: Path,
) -> None:
    with FakeIndex() as index:
        index.projects["django"] = {"6.1.3": release(60), "6.1.4": release(31)}
        index.projects["ruff"] = {"0.17.0": release(60), "0.17.1": release(31)}
        finished = audit(tmp_path, index.url, "django==6.1.3", "ruff==0.17.0")
    assert finished.returncode == 1, finished.stdout + finished.stderr
    past, due = finished.stdout.split("Due later:")
    assert "django==6.1.3: a newer release of this runtime component" in past
    assert "ruff==0.17.0: a newer release of this build and test tool" in due
    assert "2 locked packages checked: 1 past their time frame, 1 due later." in finished.stdout


def test_a_tool_has_ninety_days_and_a_pin_at_the_newest_release_passes(tmp_path: Path) -> None:
    with FakeIndex() as index:
        index.projects["django"] = {"6.1.3": release(60), "6.1.4": release(29)}
        index.projects["ruff"] = {"0.17.0": release(200), "0.17.1": release(89)}
        index.projects["pytest"] = {"9.0.0": release(200)}
        finished = audit(tmp_path, index.url, "django==6.1.3", "ruff==0.17.0", "pytest==9.0.0")
        assert finished.returncode == 0, finished.stdout + finished.stderr
        assert "3 locked packages checked: 0 past their time frame, 2 due later." in finished.stdout
        assert "pytest" not in finished.stdout

        index.projects["ruff"]["0.17.1"] = release(91)
        finished = audit(tmp_path, index.url, "django==6.1.3", "ruff==0.17.0", "pytest==9.0.0")
    assert finished.returncode == 1
    assert "Past its time frame:\n  ruff==0.17.0" in finished.stdout


def test_a_known_vulnerability_has_seven_days_from_its_fix(tmp_path: Path) -> None:
    with FakeIndex() as index:
        index.projects["django"] = {"6.1.3": release(60), "6.1.4": release(6)}
        index.vulnerable["django", "6.1.3"] = [
            {"id": "PYSEC-2026-1", "fixed_in": ["6.1.4"]},
            {"id": "PYSEC-2026-0", "fixed_in": ["6.1.4"], "withdrawn": "2026-11-01T00:00:00Z"},
        ]
        finished = audit(tmp_path, index.url, "django==6.1.3")
        assert finished.returncode == 0, finished.stdout + finished.stderr
        assert "PYSEC-2026-0" not in finished.stdout  # withdrawn
        assert "django==6.1.3: PYSEC-2026-1, fixed in a release of " in finished.stdout

        index.projects["django"]["6.1.4"] = release(8)
        finished = audit(tmp_path, index.url, "django==6.1.3")
    assert finished.returncode == 1
    assert "Past its time frame:\n  django==6.1.3: PYSEC-2026-1" in finished.stdout


def test_without_answers_for_one_version_the_newest_releases_vulnerabilities_are_read(
    tmp_path: Path,
) -> None:
    with FakeIndex() as index:
        index.per_version = False
        index.projects["stripe"] = {"16.0.0": release(50), "16.1.0": release(40)}
        index.vulnerable["stripe", "16.1.0"] = [{"id": "GHSA-new", "fixed_in": []}]
        index.vulnerable["stripe", "16.0.0"] = [{"id": "GHSA-old", "fixed_in": ["16.1.0"]}]
        finished = audit(tmp_path, index.url, "stripe==16.1.0")
        assert finished.returncode == 1, finished.stdout + finished.stderr
        assert "Past its time frame:\n  stripe==16.1.0: GHSA-new has no fixed release" in (
            finished.stdout
        )
        assert "GHSA-old" not in finished.stdout
        assert "did not say which vulnerabilities" not in finished.stdout

        recorded = "# mitigations\nGHSA-new  the proxy refuses the webhook's old path  # 2026-11\n"
        finished = audit(tmp_path, index.url, "stripe==16.1.0", exceptions=recorded)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        assert "GHSA-new, mitigated: the proxy refuses the webhook's old path" in finished.stdout

        finished = audit(tmp_path, index.url, "stripe==16.0.0", exceptions=recorded)
    assert "GHSA-old" not in finished.stdout  # unknown for this version here ...
    assert "did not say which vulnerabilities 1 pinned versions have" in finished.stdout
    assert "a newer release of this runtime component came out on" in finished.stdout  # ... bound


def test_a_withdrawn_pin_is_past_its_frame_at_once(tmp_path: Path) -> None:
    with FakeIndex() as index:
        index.projects["ruff"] = {"0.17.0": release(5, yanked=True)}
        finished = audit(tmp_path, index.url, "ruff==0.17.0")
    assert finished.returncode == 1
    assert "ruff==0.17.0: its authors withdrew (yanked) this release" in finished.stdout


def test_an_index_that_fails_for_a_moment_is_asked_again(tmp_path: Path) -> None:
    with FakeIndex() as index:
        index.projects["ruff"] = {"0.17.0": release(5)}
        index.failures = 2
        finished = audit(tmp_path, index.url, "ruff==0.17.0")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert index.failures == 0


def test_an_index_that_cannot_be_asked_fails_apart_from_a_breach(tmp_path: Path) -> None:
    with FakeIndex() as index:
        gone = index.url
    finished = audit(tmp_path, gone, "django==6.1.3")
    assert finished.returncode == 2
    assert "The audit could not finish: " in finished.stderr
