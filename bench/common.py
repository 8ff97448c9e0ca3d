"""What the benchmarks share: a PostgreSQL database of their own, Django set up on it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/clinicportal_bench"


def setup_django() -> None:
    """Create the benchmark database if needed, point Django at it, migrate."""
    import psycopg

    sys.path.insert(0, str(ROOT))
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CLINICPORTAL_STORAGE_DIR", str(ROOT / "var" / "bench-storage"))

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def bench_practice() -> Any:
    from clinicportal.practices.models import Practice
    from clinicportal.practices.services import practice_create

    practice = Practice.objects.filter(slug="bench").first()
    if practice is None:
        practice, _ = practice_create(
            name="Benchmark Eye Care",
            slug="bench",
            admin_username="bench.admin",
            admin_email="bench@example.com",
            admin_name="Bench Admin",
            admin_password="bench-admin-password-not-secret",
        )
    return practice


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def report(name: str, result: dict[str, Any]) -> None:
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
