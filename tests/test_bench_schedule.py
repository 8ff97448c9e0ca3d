"""bench/schedule.py --small runs end to end, on a throwaway SQLite file.

A smoke run: timings are never asserted (the machine may be busy), only what does not depend on
them: the data set's sizes, free times found, and the same query count for a busy month as for
an empty one.
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


def test_the_small_run_searches_a_busy_month_in_as_many_queries_as_an_empty_one(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "BENCH_RESULTS_DIR": str(tmp_path)}
    env.pop("BENCH_DATABASE_URL", None)
    finished = subprocess.run(
        [sys.executable, "bench/schedule.py", "--small", "--rounds", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode in (0, 1), finished.stderr[-3000:]
    assert "Traceback" not in finished.stderr, finished.stderr[-3000:]
    result = json.loads((tmp_path / "schedule_small.json").read_text())
    assert result["database"] == "sqlite"
    assert (result["providers"], result["appointments"]) == (3, 3_000)
    assert result["appointments_in_the_month"] > 0
    assert result["free_times_in_the_month"] > 0
    assert result["query_count_constant"] is True
    timings = result["timings"]
    assert timings["month, all 3 providers"]["queries"] == 3
