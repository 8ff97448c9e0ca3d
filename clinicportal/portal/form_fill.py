"""A form's questions as the portal shows them to fill, and a sent form's answers to read.

The services check every answer (``intake.fields``); this only carries what the patient typed,
and what is wrong with it, to the page: each question with its ids, so that its help and its
error are tied to it (``aria-describedby``), and its choices with the ones ticked. What was
typed comes back exactly as typed, right or wrong, so nothing is lost; when the form is no
longer theirs to fill, it is listed as text to copy (``typed_rows``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field
from clinicportal.intake.filing import Row


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    id: str
    checked: bool


@dataclass(frozen=True)
class Question:
    """One field of the form, ready for portal/includes/form_question.html."""

    field: Field
    text: str = ""  # typed, for a text, date or number field; the typed name, for a signature
    agreed: bool = False  # a signature's "I agree"
    choices: tuple[Choice, ...] = ()
    error: str = ""

    @property
    def name(self) -> str:
        return f"f-{self.field.key}"

    @property
    def help_id(self) -> str:
        explained = self.field.help or self.field.kind in (kinds.DATE, kinds.SIGNATURE)
        return f"{self.name}-help" if explained else ""

    @property
    def error_id(self) -> str:
        return f"{self.name}-error" if self.error else ""

    @property
    def described_by(self) -> str:
        return " ".join(i for i in (self.help_id, self.error_id) if i)

    @property
    def first_id(self) -> str:
        """The control the error list at the top of the page leads to."""
        return self.choices[0].id if self.choices else self.name

    @property
    def summary(self) -> str:
        """The question and what is wrong with its answer, for the list at the top of the page."""
        label = self.field.label.strip()
        if label.endswith(("?", "!", ".", ":")):
            return _("%(question)s %(error)s") % {"question": label, "error": self.error}
        return _("%(question)s: %(error)s") % {"question": label, "error": self.error}

    @property
    def grouped(self) -> bool:
        """Asked with several controls: a fieldset, its legend the question."""
        return bool(self.choices) or self.field.kind == kinds.SIGNATURE


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def question(field: Field, typed: Any, error: str = "") -> Question:
    if field.kind in (kinds.YES_NO, kinds.SINGLE, kinds.MULTIPLE):
        offered = (
            [("yes", _("Yes")), ("no", _("No"))]
            if field.kind == kinds.YES_NO
            else [(c, c) for c in field.choices]
        )
        if field.kind == kinds.MULTIPLE:
            ticked = {v for v in typed if isinstance(v, str)} if isinstance(typed, list) else set()
        else:
            ticked = {_text(typed)}
            if not field.required:
                # A chosen radio button cannot be unticked: an optional question offers a way
                # back to no answer, ticked until something else is.
                offered.append(("", _("No answer")))
        choices = tuple(
            Choice(value, label, f"f-{field.key}-{n}", value in ticked)
            for n, (value, label) in enumerate(offered)
        )
        return Question(field, choices=choices, error=error)
    if field.kind == kinds.SIGNATURE:
        signed = typed if isinstance(typed, Mapping) else {}
        return Question(
            field,
            text=_text(signed.get("name")),
            agreed=bool(signed.get("agreed")),
            error=error,
        )
    return Question(field, text=_text(typed), error=error)


def questions(
    fields: Sequence[Field], typed: Mapping[str, Any], errors: Mapping[str, str] | None = None
) -> list[Question]:
    """Every field of the form in order (headings and notes too), with what was typed."""
    errors = errors or {}
    return [question(f, typed.get(f.key), errors.get(f.key, "")) for f in fields]


def typed_text(field: Field, typed: Any) -> str:
    """What was typed for ``field`` (as ``kinds.typed`` gave it), as plain text, unchecked: for
    copying out of a form that could not take it."""
    if field.kind == kinds.MULTIPLE:
        text = "; ".join(v for v in typed if v) if isinstance(typed, list) else ""
    elif field.kind == kinds.SIGNATURE:
        signed = typed if isinstance(typed, Mapping) else {}
        text = _text(signed.get("name")).strip()
        if signed.get("agreed"):
            text = " ".join(filter(None, (text, _("(“I agree” ticked)"))))
    elif field.kind == kinds.YES_NO:
        text = {"yes": _("Yes"), "no": _("No")}.get(_text(typed), _text(typed))
    else:
        text = _text(typed)
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
