"""bench/invoices.py --small runs end to end, on a throwaway SQLite file.

A smoke run: timings are never asserted (the machine may be busy), only what does not depend
on them: the PDF in each of the three views made from the 40-line invoice, the day's payments
read with as many queries on a busy day as on a quiet one, Billing's last page with as many
as its first, and PAY BILLS' last pages with as many as its first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The smoke run makes its own throwaway SQLite database whichever database the suite is on:
# the SQLite pass runs it, and the PostgreSQL pass would only run the same thing again.
pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="runs on its own SQLite file; the SQLite pass runs it",
)


def test_the_small_run_makes_the_pdfs_and_reads_each_list_in_constant_queries(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "BENCH_RESULTS_DIR": str(tmp_path)}
    env.pop("BENCH_DATABASE_URL", None)
    finished = subprocess.run(
        [sys.executable, "bench/invoices.py", "--small", "--rounds", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Exit 1 only says a goal was missed: a timing on a busy machine, or what the results show.
    assert finished.returncode in (0, 1), finished.stderr[-3000:]
    assert "Traceback" not in finished.stderr, finished.stderr[-3000:]
    result = json.loads((tmp_path / "invoices_small.json").read_text())

    assert result["database"] == "sqlite"
    assert not result["data_set_reused"]
    counts = result["data_set_counts"]
    assert counts["invoices"] == 300 + 1  # and the 40-line one, made through the services
    assert counts["busy_day_payments"] > 10 * counts["quiet_day_payments"] > 0

    made = result["pdf"]["made"]
    assert made["lines"] == 40 and made["portal_text"]
    for view in ("column", "row", "custom"):
        assert made[view]["is_pdf"] and made[view]["bytes"] > 1000
    assert result["pdf"]["pdf column view, 40 lines"]["queries"] == 0  # read once, beforehand

    for name in ("payments_day", "billing"):
        assert len(result[name]) == 2
        assert len({page["queries"] for page in result[name].values()}) == 1, result[name]
    goals = result["goals"]
    assert goals["pdf_made"] and goals["pdf_lines"]
    assert goals["payments_day_same_queries"] and goals["billing_same_queries"]
    bills = result["portal_bills"]
    assert bills["note"].startswith("measured")
    assert len(bills) == 4  # the note, the first page, the invoices' and the payments' last
    assert goals["portal_bills_same_queries"]
    for goal in goals:
        assert f"  {goal}" in finished.stdout  # each goal printed with its PASS or FAIL
