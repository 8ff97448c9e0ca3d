"""The benchmarks' own accounts have passwords the bench practice accepts.

A benchmark that makes a staff member through ``staff_create`` is held to the same rules as a
practice: a password made mostly of the site's or the practice's words ("bench", "staff",
"password") is refused, and the whole run stops before it measures anything.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinicportal.accounts.models import User
from clinicportal.accounts.passwords import validate_staff_password
from clinicportal.practices.models import Practice

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def bench_module_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """bench/ on the path, as its scripts see it; its modules forgotten afterwards."""
    monkeypatch.syspath_prepend(str(BENCH))
    yield
    for name in ("upload", "common", "http_common"):
        sys.modules.pop(name, None)


@pytest.mark.django_db
@pytest.mark.usefixtures("bench_module_path")
def test_the_bench_staff_password_is_one_the_bench_practice_accepts() -> None:
    from upload import STAFF_PASSWORD, STAFF_USERNAME  # bench/upload.py

    practice = Practice.objects.create(name="Benchmark Eye Care", slug="bench")
    user = User(username=STAFF_USERNAME, email="bench.staff@example.com")
    validate_staff_password(STAFF_PASSWORD, user, practice)  # raises if refused
