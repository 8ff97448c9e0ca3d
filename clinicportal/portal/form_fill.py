"""A form filled in the portal as text, and a sent form's answers to read.

The questions to fill are ``intake.questions``. When the form is no longer theirs to fill,
what was typed is listed as text to copy (``typed_rows``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field
from clinicportal.intake.filing import Row
from clinicportal.intake.questions import as_text


def typed_text(field: Field, typed: Any) -> str:
    """What was typed for ``field`` (as ``kinds.typed`` gave it), as plain text, unchecked: for
    copying out of a form that could not take it."""
    if field.kind == kinds.MULTIPLE:
        text = "; ".join(v for v in typed if v) if isinstance(typed, list) else ""
    elif field.kind == kinds.SIGNATURE:
        signed = typed if isinstance(typed, Mapping) else {}
        text = as_text(signed.get("name")).strip()
        if signed.get("agreed"):
            text = " ".join(filter(None, (text, _("(“I agree” ticked)"))))
    elif field.kind == kinds.YES_NO:
        text = {"yes": _("Yes"), "no": _("No")}.get(as_text(typed), as_text(typed))
    else:
        text = as_text(typed)
    return text if text.strip() else _("(no answer)")


def typed_rows(fields: Sequence[Field], typed: Mapping[str, Any]) -> list[Row]:
    """The form in reading order with what was typed, as ``answer_rows`` lists a sent form."""
    rows = []
    for field in fields:
        if field.kind == kinds.HEADING:
            rows.append(Row("heading", field.label, help=field.help))
        elif field.kind == kinds.HELP:
            rows.append(Row("help", field.label, help=field.help))
        else:
            rows.append(Row("answer", field.label, typed_text(field, typed.get(field.key))))
    return rows


@dataclass(frozen=True)
class Block:
    """A sent form's answers in reading order: a heading, a note, or a run of answers."""

    kind: str  # "heading", "help" or "answers"
    rows: tuple[Row, ...]


def blocks(rows: Sequence[Row]) -> list[Block]:
    """``answer_rows`` grouped so that each run of answers reads as one list."""
    found: list[Block] = []
    for row in rows:
        if row.kind == "answer" and found and found[-1].kind == "answers":
            found[-1] = Block("answers", (*found[-1].rows, row))
        else:
            found.append(Block("answers" if row.kind == "answer" else row.kind, (row,)))
    return found
