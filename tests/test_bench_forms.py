"""bench/forms.py --small runs end to end, on a throwaway SQLite file.

A smoke run: timings are never asserted (the machine may be busy), only what does not depend on
them: the 60-field submission is filed with its PDF, every answer kept.
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


def test_the_small_run_files_the_sixty_field_submission_with_its_pdf(tmp_path: Path) -> None:
    env = {**os.environ, "BENCH_RESULTS_DIR": str(tmp_path)}
    env.pop("BENCH_DATABASE_URL", None)
    finished = subprocess.run(
        [sys.executable, "bench/forms.py", "--small", "--rounds", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode in (0, 1), finished.stderr[-3000:]
    assert "Traceback" not in finished.stderr, finished.stderr[-3000:]
    result = json.loads((tmp_path / "forms_small.json").read_text())
    assert result["database"] == "sqlite"
    assert result["submit"]["pdf_filed"] is True and result["submit"]["pdf_error"] == ""
    assert result["submit"]["answers"] == 48  # 60 fields less 6 headings and 6 help texts
