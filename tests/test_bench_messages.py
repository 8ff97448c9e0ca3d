"""bench/messages.py --small runs end to end, on a throwaway SQLite file.

A smoke run: timings are never asserted (the machine may be busy), only what does not depend
on them: every page measured, one query count for every page of the task list, a long
conversation read with as many queries as a short one, every email arriving once.
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


def test_the_small_run_measures_every_page_and_sends_every_email_once(tmp_path: Path) -> None:
    env = {**os.environ, "BENCH_RESULTS_DIR": str(tmp_path)}
    env.pop("BENCH_DATABASE_URL", None)
    finished = subprocess.run(
        [sys.executable, "bench/messages.py", "--small", "--rounds", "2", "--emails", "40"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Exit 1 only says a goal was missed: a timing on a busy machine, or what the results show.
    assert finished.returncode in (0, 1), finished.stderr[-3000:]
    assert "Traceback" not in finished.stderr, finished.stderr[-3000:]
    result = json.loads((tmp_path / "messages_small.json").read_text())

    assert result["database"] == "sqlite"
    assert not result["data_set_reused"]
    counts = result["data_set_counts"]
    assert counts["patients"] == 200 and counts["messages"] == 2000 + 500 + 3
    assert len(result["tasks"]) == 3 * 2 * 2 * 4  # status, category, order; four pages each
    assert {page["queries"] for page in result["tasks"].values()} == {1}
    assert result["goals"]["tasks_same_queries"]
    assert result["goals"]["conversation_same_queries"]
    assert len(result["conversations"]) == 4
    outbox = result["outbox"]
    assert outbox["emails"] == outbox["sent"] == outbox["received"] == 40
    assert outbox["each_once"]
    for goal in result["goals"]:
        assert f"  {goal}" in finished.stdout  # each goal printed with its PASS or FAIL
