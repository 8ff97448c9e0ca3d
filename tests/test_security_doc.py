"""docs/security.md maps every OWASP ASVS 5.0 Level 1 and Level 2 requirement, once each."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "security.md"

# The Level 1 and Level 2 requirements of ASVS 5.0.0, section by section ("6.2:1,2" is 6.2.1 and
# 6.2.2), taken from the standard's CSV (column L is 1 or 2). Level 3 ones are left out.
ASVS_L1_L2 = (
    "1.1:1,2 1.2:1,2,3,4,5,6,7,8,9 1.3:1,2,3,4,5,6,7,8,9,10,11 1.4:1,2,3 1.5:1,2 2.1:1,2,3 "
    "2.2:1,2,3 2.3:1,2,3,4 2.4:1 3.2:1,2 3.3:1,2,3,4 3.4:1,2,3,4,5,6 3.5:1,2,3,4,5 3.7:1,2 "
    "4.1:1,2,3 4.2:1 4.3:1,2 4.4:1,2,3,4 5.1:1 5.2:1,2,3 5.3:1,2 5.4:1,2,3 6.1:1,2,3 "
    "6.2:1,2,3,4,5,6,7,8,9,10,11,12 6.3:1,2,3,4 6.4:1,2,3,4 6.5:1,2,3,4,5 6.6:1,2,3 "
    "6.8:1,2,3,4 7.1:1,2,3 7.2:1,2,3,4 7.3:1,2 7.4:1,2,3,4,5 7.5:1,2 7.6:1,2 8.1:1,2 "
    "8.2:1,2,3 8.3:1 8.4:1 9.1:1,2,3 9.2:1,2,3,4 10.1:1,2 10.2:1,2 10.3:1,2,3,4 "
    "10.4:1,2,3,4,5,6,7,8,9,10,11 10.5:1,2,3,4,5 10.6:1,2 10.7:1,2,3 11.1:1,2 11.2:1,2,3 "
    "11.3:1,2,3 11.4:1,2,3,4 11.5:1 11.6:1 12.1:1,2,3 12.2:1,2 12.3:1,2,3,4 13.1:1 "
    "13.2:1,2,3,4,5 13.3:1,2 13.4:1,2,3,4,5 14.1:1,2 14.2:1,2,3,4 14.3:1,2,3 15.1:1,2,3 "
    "15.2:1,2,3 15.3:1,2,3,4,5,6,7 16.1:1 16.2:1,2,3,4,5 16.3:1,2,3,4 16.4:1,2,3 16.5:1,2,3 "
    "17.1:1 17.2:1,2,3,4 17.3:1,2"
)
STATUSES = {"Met", "Operator", "Not applicable", "Planned (issue 11)", "Not met"}
ROW = re.compile(r"^\|\s*(\d+\.\d+\.\d+)\s*\|")


def asvs_ids() -> list[str]:
    ids: list[str] = []
    for section in ASVS_L1_L2.split():
        prefix, numbers = section.split(":")
        ids.extend(f"{prefix}.{number}" for number in numbers.split(","))
    return ids


def table_rows() -> list[list[str]]:
    """Each row of the requirements table, as its cells."""
    rows: list[list[str]] = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if ROW.match(line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_the_embedded_list_is_the_standards_253_level_1_and_2_requirements():
    ids = asvs_ids()
    assert len(ids) == len(set(ids)) == 253


def test_every_level_1_and_2_requirement_is_in_the_table_exactly_once():
    counts = Counter(row[0] for row in table_rows())
    expected = set(asvs_ids())
    missing = sorted(expected - set(counts))
    extra = sorted(set(counts) - expected)
    twice = sorted(req for req, count in counts.items() if count > 1)
    assert not missing, f"requirements missing from docs/security.md: {missing}"
    assert not extra, f"not ASVS 5.0 Level 1 or 2 requirements: {extra}"
    assert not twice, f"requirements listed more than once: {twice}"


def test_every_row_has_a_known_status_and_says_how():
    for row in table_rows():
        assert len(row) == 4, f"{row[0]}: expected Req | Requirement | Status | How, got {row}"
        req, requirement, status, how = row
        assert status in STATUSES, f"{req}: unknown status {status!r}"
        assert requirement and how, f"{req}: the requirement and how it is met must be said"


def test_the_document_points_only_inside_the_repository():
    text = DOC.read_text(encoding="utf-8")
    assert "/work/" not in text
    assert "../shared" not in text
