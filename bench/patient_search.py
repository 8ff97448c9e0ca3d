"""Benchmark: patient search latency at 100 000 patients on PostgreSQL.

    make bench                      # or: .venv/bin/python bench/patient_search.py --patients 100000

Creates the database `clinicportal_bench` on the local PostgreSQL (or uses BENCH_DATABASE_URL),
fills a practice with generated patients once, then times the office search page end to end
(Django request, selector, template) for a mix of name, date-of-birth and phone searches.
Prints p50/p95/max and writes bench/results/patient_search.json. Goal: p95 < 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/clinicportal_bench"
GOAL_P95_MS = 20.0


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=400)
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CLINICPORTAL_STORAGE_DIR", str(ROOT / "var" / "bench-storage"))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from clinicportal.core.demo import patients_generate
    from clinicportal.practices.models import Practice, StaffMember
    from clinicportal.practices.services import practice_create

    call_command("migrate", verbosity=0)
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
    have = practice.patients.count()
    if have < args.patients:
        started = time.perf_counter()
        patients_generate(practice=practice, count=args.patients - have, seed=have + 1)
        print(f"generated {args.patients - have} patients in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE patients_patient")
    total = practice.patients.count()

    admin = StaffMember.objects.get(practice=practice, role="admin")
    client = Client()
    client.force_login(admin.user)
    rng = random.Random(7)
    sample = list(
        practice.patients.order_by("?")[:200].values(
            "last_name", "first_name", "date_of_birth", "phone"
        )
    )
    queries: list[str] = []
    for i in range(args.searches):
        p = sample[i % len(sample)]
        kind = i % 5
        if kind == 0:
            queries.append(p["last_name"][: rng.randint(2, 4)])
        elif kind == 1:
            queries.append(f"{p['last_name']}, {p['first_name'][:2]}")
        elif kind == 2:
            queries.append(f"{p['first_name']} {p['last_name']}")
        elif kind == 3:
            queries.append(p["date_of_birth"].isoformat())
        else:
            queries.append(p["phone"][:9])
    for q in queries[:20]:  # warm caches and connections
        client.get("/office/patients/", {"q": q})
    timings = []
    for q in queries:
        started = time.perf_counter()
        response = client.get("/office/patients/", {"q": q})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    result = {
        "benchmark": "office patient search (full request)",
        "database": connection.vendor,
        "patients": total,
        "searches": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(timings[-1], 2),
        "goal_p95_ms": GOAL_P95_MS,
        "met": p95 < GOAL_P95_MS,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "patient_search.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
