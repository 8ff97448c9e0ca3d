"""A form's questions as a page shows them to fill: the portal's FORMS, to fill one.

The services check every answer (``fields``); this only carries what the patient typed, and
what is wrong with it, to the page: each question with its ids, so that its help and its error
are tied to it (``aria-describedby``), and its choices with the ones ticked. What was typed
comes back exactly as typed, right or wrong, so nothing is lost. The page renders each with
intake/includes/form_question.html. The office's preview of a form renders the same questions,
with nothing typed, as previews: their inputs switched off, their ids apart from any form's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    id: str
    checked: bool


@dataclass(frozen=True)
class Question:
    """One field of the form, ready for intake/includes/form_question.html."""

    field: Field
    text: str = ""  # typed, for a text, date or number field; the typed name, for a signature
    agreed: bool = False  # a signature's "I agree"
    choices: tuple[Choice, ...] = ()
    error: str = ""
    preview: bool = False  # shown to the office, its inputs switched off

    @property
    def name(self) -> str:
        return _name(self.field.key, preview=self.preview)

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


def _name(key: str, *, preview: bool) -> str:
    return f"{'preview' if preview else 'f'}-{key}"


def as_text(value: Any) -> str:
    """What was typed, if it is text; otherwise nothing."""
    return value if isinstance(value, str) else ""


def question(field: Field, typed: Any, error: str = "", *, preview: bool = False) -> Question:
    if field.kind in (kinds.YES_NO, kinds.SINGLE, kinds.MULTIPLE):
        offered = (
            [("yes", _("Yes")), ("no", _("No"))]
            if field.kind == kinds.YES_NO
            else [(c, c) for c in field.choices]
        )
        if field.kind == kinds.MULTIPLE:
            ticked = {v for v in typed if isinstance(v, str)} if isinstance(typed, list) else set()
        else:
            ticked = {as_text(typed)}
            if not field.required:
                # A chosen radio button cannot be unticked: an optional question offers a way
                # back to no answer, ticked until something else is.
                offered.append(("", _("No answer")))
        choices = tuple(
            Choice(value, label, f"{_name(field.key, preview=preview)}-{n}", value in ticked)
            for n, (value, label) in enumerate(offered)
        )
        return Question(field, choices=choices, error=error, preview=preview)
    if field.kind == kinds.SIGNATURE:
        signed = typed if isinstance(typed, Mapping) else {}
        return Question(
            field,
            text=as_text(signed.get("name")),
            agreed=bool(signed.get("agreed")),
            error=error,
            preview=preview,
        )
    return Question(field, text=as_text(typed), error=error, preview=preview)


def questions(
    fields: Sequence[Field], typed: Mapping[str, Any], errors: Mapping[str, str] | None = None
) -> list[Question]:
    """Every field of the form in order (headings and notes too), with what was typed."""
    errors = errors or {}
    return [question(f, typed.get(f.key), errors.get(f.key, "")) for f in fields]


def preview_questions(fields: Sequence[Field]) -> list[Question]:
    """Every field of the form in order, as the office's preview shows it: nothing typed."""
    return [question(f, None, preview=True) for f in fields]
