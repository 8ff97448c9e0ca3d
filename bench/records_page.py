"""Benchmark: the portal's RECORDS page for a patient with 1 000 records.

    make bench          # or: .venv/bin/python bench/records_page.py [--documents 1000]

Gives a bench patient --documents portal records (once; they share one small stored file),
signs the patient in to the portal as a browser would, and times the paginated RECORDS page
("/p/bench/records/") end to end (session checks, selector, template) on page 1 and on the
last page, counting the SQL queries of each request. Goal: the same number of queries on both
pages (nothing grows with the page number) and p95 < 100 ms. Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import datetime
import math
import statistics
import sys
import time

from common import (
    bench_actor,
    bench_portal_patient,
    bench_practice,
    percentile,
    portal_pdf_document,
    report,
    setup_django,
)

GOAL_P95_MS = 100.0
USERNAME = "bench.records"
PASSWORD = "bench-records-password-2026"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=100, help="timed requests per page")
    args = parser.parse_args()

    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from clinicportal.portal.views import RECORDS_PER_PAGE
    from clinicportal.records.models import PortalDocument

    practice = bench_practice()
    patient = bench_portal_patient(
        practice, last_name="Records", username=USERNAME, password=PASSWORD
    )
    first = portal_pdf_document(practice, patient, filename="bench-record.pdf", size=4096)
    have = PortalDocument.objects.filter(patient=patient).count()
    if have < args.documents:
        started = time.perf_counter()
        staff = bench_actor(practice).user
        PortalDocument.objects.bulk_create(
            PortalDocument(
                practice=practice,
                patient=patient,
                blob=first.blob,
                source=PortalDocument.Source.CHART,
                filename=f"bench-record-{i}.pdf",
                description=f"Benchmark record {i}",
                document_date=datetime.date(2026, 1, 1) - datetime.timedelta(days=i),
                is_education=i % 10 == 0,
                shared_by=staff,
            )
            for i in range(have, args.documents)
        )
        print(f"created {args.documents - have} records in {time.perf_counter() - started:.1f} s")
    total = PortalDocument.objects.filter(patient=patient).count()
    last_page = max(1, math.ceil(total / RECORDS_PER_PAGE))

    client = Client()
    response = client.post(
        f"/p/{practice.slug}/login/", {"username": USERNAME, "password": PASSWORD}
    )
    assert response.status_code == 302, response.status_code
    records = f"/p/{practice.slug}/records/"

    def timed(page: int) -> tuple[float, int, int]:
        """Return (milliseconds, SQL queries, rows shown) for one request of ``page``."""
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(records, {"page": page})
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        rows = response.content.decode().count('/download"')
        return elapsed, len(queries), rows

    for page in (1, last_page):  # warm caches and connections
        for _ in range(10):
            timed(page)
    results = {}
    p95s = []
    for label, page in (("first_page", 1), ("last_page", last_page)):
        samples = [timed(page) for _ in range(args.rounds)]
        timings = sorted(ms for ms, _, _ in samples)
        query_counts = sorted({count for _, count, _ in samples})
        p95s.append(percentile(timings, 0.95))
        results[label] = {
            "page": page,
            "rows": samples[-1][2],
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(p95s[-1], 1),
            "max_ms": round(timings[-1], 1),
            "queries": query_counts[0] if len(query_counts) == 1 else query_counts,
        }
    same_queries = results["first_page"]["queries"] == results["last_page"]["queries"]
    result = {
        "benchmark": "portal RECORDS page (full request)",
        "database": connection.vendor,
        "documents": total,
        "per_page": RECORDS_PER_PAGE,
        "rounds": args.rounds,
        **results,
        "same_queries_on_both_pages": same_queries,
        "goal_p95_ms": GOAL_P95_MS,
        "met": same_queries and max(p95s) < GOAL_P95_MS,
    }
    report("records_page", result)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
