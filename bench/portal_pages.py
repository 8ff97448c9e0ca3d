"""Benchmark: requests per second of signed-in pages, against a bare Django view.

    make bench          # or: .venv/bin/python bench/portal_pages.py [--quick] [--patients 100000]

Fills the bench practice with --patients generated patients (once) and gives a portal patient
--records records (once), then starts the real server (`gunicorn config.wsgi -w 2`, sync
workers) on loopback with bench/pages_settings.py: the site's settings and URLs plus a bare
view (``HttpResponse("ok")``, through the same middleware) that exists only here. Several
client threads, each signed in like a browser (its own portal session and office session),
request one page at a time for --seconds after a warm-up:

- bare:    /bench/bare/, the yardstick;
- naive:   /bench/naive/, a naive signed-in page (its session read, one query, a small
           template), to show where any page of Django stands; held to no goal;
- records: the portal's RECORDS page (/p/bench/records/);
- logs:    the portal's LOGS page (/p/bench/logs/);
- search:  the office patient search, by name. As in a browser, each client first posts its
           searches (untimed; the terms never go in an address), then the timed requests are
           the GETs of the pages they lead to, /office/patients/?s=<handle>. A session keeps
           its last few searches, so each client has that many names of its own.

Each page's requests per second is reported as a ratio of the bare view's (the mean of a run
before the pages and one after, which also shows how steady the machine was). Also the p50 of
a portal sign-in (the POST of the login form, timed at the client). Goal: a ratio ≥ 0.25 for
RECORDS, LOGS and search.
Exits 1 when a goal is missed. --quick: one second a page, for a smoke run.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    bench_actor,
    bench_portal_patient,
    bench_practice,
    percentile,
    report,
    setup_django,
)
from http_common import Gunicorn, HttpClient, office_search, office_sign_in, portal_sign_in
from upload import STAFF_PASSWORD, STAFF_USERNAME, bench_staff

GOAL_RATIO = 0.25
PAGES = ("records", "logs", "search")  # held to the goal; "naive" only shows where Django stands
USERNAME = "bench.pages"
PASSWORD = "bench-pages-password-2026"


@dataclass
class Tally:
    """What the client threads saw of one page."""

    ok: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def hammer(
    clients: list[HttpClient], paths: list[str] | list[list[str]], seconds: float
) -> tuple[float, Tally]:
    """Have each client GET ``paths`` in turn, one request at a time, for ``seconds``.

    ``paths`` is one list for every client, or a list for each client (its own searches).
    Return (successful requests per second, the tally).
    """
    own = [
        list(paths[n]) if isinstance(paths[0], list) else [str(p) for p in paths]
        for n in range(len(clients))
    ]
    tally = Tally()
    start = threading.Barrier(len(clients) + 1)
    deadline = [0.0]

    def run(client: HttpClient, offset: int, paths: list[str]) -> None:
        ok, errors, latencies = 0, [], []
        start.wait()
        i = offset
        while (now := time.perf_counter()) < deadline[0]:
            path = paths[i % len(paths)]
            i += 1
            try:
                response = client.get(path)
            except OSError as exc:
                errors.append(f"{path}: {exc!r}")
                continue
            if response.status == 200:
                ok += 1
                latencies.append((time.perf_counter() - now) * 1000)
            else:
                errors.append(f"{path}: {response.status} {response.location}")
        with tally.lock:
            tally.ok += ok
            tally.errors.extend(errors)
            tally.latencies_ms.extend(latencies)

    threads = [
        threading.Thread(target=run, args=(client, n * 7, own[n]), daemon=True)
        for n, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    return tally.ok / (time.perf_counter() - started), tally


def page_result(rps: float, tally: Tally) -> dict[str, Any]:
    latencies = sorted(tally.latencies_ms)
    return {
        "rps": round(rps, 1),
        "requests": tally.ok,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95), 1) if latencies else None,
        "errors": len(tally.errors),
        "first_errors": tally.errors[:3],
    }


def ensure_data(patients: int, records: int) -> tuple[Any, list[str]]:
    """Make the practice's patients and the portal patient's records; return (practice, names)."""
    from django.db import connection

    from clinicportal.content.services import blob_put_bytes
    from clinicportal.demo.data import patients_generate, render_pdf
    from clinicportal.records.models import PortalDocument

    practice = bench_practice()
    have = practice.patients.count()
    if have < patients:
        started = time.perf_counter()
        patients_generate(practice=practice, count=patients - have, seed=have + 1)
        print(f"generated {patients - have} patients in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) patients_patient")  # as autovacuum would keep it
    patient = bench_portal_patient(
        practice, last_name="Pages", username=USERNAME, password=PASSWORD
    )
    have = PortalDocument.objects.filter(patient=patient).count()
    if have < records:
        # Rows made directly, sharing one stored PDF; the page reads rows, not files.
        blob = blob_put_bytes(
            practice=practice,
            data=render_pdf("Benchmark record", ["For benchmarks."]),
            content_type="application/pdf",
        )
        staff = bench_actor(practice).user
        PortalDocument.objects.bulk_create(
            PortalDocument(
                practice=practice,
                patient=patient,
                blob=blob,
                source=PortalDocument.Source.CHART,
                filename=f"bench-pages-{i}.pdf",
                description=f"Benchmark record {i}",
                document_date=datetime.date(2026, 1, 1) - datetime.timedelta(days=i),
                is_education=i % 10 == 0,
                shared_by=staff,
            )
            for i in range(have, records)
        )
    sample = practice.patients.order_by("?")[:50].values_list("first_name", "last_name")
    names = [last[:3] if n % 2 else f"{first} {last}" for n, (first, last) in enumerate(sample)]
    return practice, names


def sign_in_p50(port: int, slug: str, rounds: int) -> dict[str, Any]:
    """Time ``rounds`` portal sign-ins (the POST only, each from a fresh browser)."""
    timings = []
    login = f"/p/{slug}/login/"
    for _ in range(rounds):
        client = HttpClient(port)
        token = client.csrf_token(login)
        fields = {"csrfmiddlewaretoken": token, "username": USERNAME, "password": PASSWORD}
        started = time.perf_counter()
        response = client.post_form(login, fields)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status != 302 or "login" in response.location:
            raise RuntimeError(f"portal sign-in failed: {response.status} {response.location}")
    timings.sort()
    return {
        "rounds": rounds,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=100, help="the portal patient's records")
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds a page")
    parser.add_argument("--warm-up", type=float, default=1.0, help="untimed seconds a page")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--sign-ins", type=int, default=30, help="timed portal sign-ins")
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warm_up, args.sign_ins = 1.0, 0.3, 5

    setup_django()
    from clinicportal.accounts.models import LoginFailure
    from clinicportal.office.searches import KEPT

    practice, names = ensure_data(args.patients, args.records)
    codes = bench_staff(practice)  # recovery codes: one for each office client's sign-in
    slug = practice.slug
    pages = {
        "bare": ["/bench/bare/"],
        "naive": ["/bench/naive/"],
        "records": [f"/p/{slug}/records/"],
        "logs": [f"/p/{slug}/logs/"],
    }
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        env = {"DJANGO_SETTINGS_MODULE": "bench.pages_settings"}
        with Gunicorn(log=Path(tmp) / "gunicorn.log", env=env, workers=2) as app:
            LoginFailure.objects.all().delete()
            portal = [HttpClient(app.port) for _ in range(args.clients)]
            office = [HttpClient(app.port) for _ in range(args.clients)]
            for client in portal:
                portal_sign_in(client, slug=slug, username=USERNAME, password=PASSWORD)
            for client in office:
                office_sign_in(
                    client, username=STAFF_USERNAME, password=STAFF_PASSWORD, code=codes.pop()
                )
            searches: list[list[str]] = [
                [office_search(client, names[(n * KEPT + k) % len(names)]) for k in range(KEPT)]
                for n, client in enumerate(office)
            ]
            bare_runs = []
            for label in ("bare", "naive", "records", "logs", "search", "bare"):
                clients = office if label == "search" else portal
                paths = searches if label == "search" else pages[label]
                hammer(clients, paths, args.warm_up)
                rps, tally = hammer(clients, paths, args.seconds)
                if label == "bare":
                    bare_runs.append(page_result(rps, tally))
                else:
                    results[label] = page_result(rps, tally)
            sign_in = sign_in_p50(app.port, slug, args.sign_ins)
    bare_rps = statistics.mean(run["rps"] for run in bare_runs)
    for label in results:
        results[label]["ratio_to_bare"] = round(results[label]["rps"] / bare_rps, 3)
    errors = sum(run["errors"] for run in (*bare_runs, *results.values()))
    result = {
        "benchmark": "signed-in pages vs a bare Django view (gunicorn -w 2 sync workers)",
        "patients": practice.patients.count(),
        "clients": args.clients,
        "seconds_a_page": args.seconds,
        "bare": {
            **bare_runs[0],
            "rps": round(bare_rps, 1),
            "runs_rps": [r["rps"] for r in bare_runs],
        },
        **results,
        "portal_sign_in": sign_in,
        "goal_ratio": GOAL_RATIO,
        "met": errors == 0
        and all(results[label]["ratio_to_bare"] >= GOAL_RATIO for label in PAGES),
    }
    report("portal_pages", result)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
