"""The kinds of field a form has, how an answer to each is checked, and how it reads back.

A field is a dict kept in a FormVersion::

    {"key": "a1b2c3", "kind": "short_text", "label": "...", "help": "...",
     "required": true, "choices": ["...", ...]}

``answer_clean`` turns what a browser posted into the answer kept, or says what is wrong in words
meant for the patient, next to the field. ``answer_text`` is the one way an answer is written out,
for the office's screen and for the PDF alike, so the two always say the same thing.
"""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SHORT_TEXT, LONG_TEXT, DATE, NUMBER, YES_NO = "short_text", "long_text", "date", "number", "yes_no"
SINGLE, MULTIPLE, SIGNATURE = "single_choice", "multiple_choice", "signature"
HEADING, HELP = "heading", "help_text"

KINDS = {
    SHORT_TEXT: gettext_lazy("Short text"),
    LONG_TEXT: gettext_lazy("Long text"),
    DATE: gettext_lazy("Date"),
    NUMBER: gettext_lazy("Number"),
    YES_NO: gettext_lazy("Yes / No"),
    SINGLE: gettext_lazy("Single choice"),
    MULTIPLE: gettext_lazy("Multiple choice"),
    SIGNATURE: gettext_lazy("Signature (typed full name and “I agree”)"),
    HEADING: gettext_lazy("Section heading"),
    HELP: gettext_lazy("Help text"),
}
# Kinds that show text and ask nothing.
STATIC = frozenset({HEADING, HELP})
WITH_CHOICES = frozenset({SINGLE, MULTIPLE})
MAX_SHORT, MAX_LONG, MAX_CHOICES = 300, 5_000, 30


@dataclass(frozen=True)
class Field:
    key: str
    kind: str
    label: str
    help: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Field:
        return cls(
            key=str(data["key"]),
            kind=str(data["kind"]),
            label=str(data.get("label", "")),
            help=str(data.get("help", "")),
            required=bool(data.get("required", False)),
            choices=tuple(str(c) for c in data.get("choices", ())),
        )

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "kind": self.kind, "label": self.label}
        if self.help:
            data["help"] = self.help
        if self.required:
            data["required"] = True
        if self.choices:
            data["choices"] = list(self.choices)
        return data

    @property
    def asks(self) -> bool:
        return self.kind not in STATIC


def new_key() -> str:
    return secrets.token_hex(4)


def fields_of(data: Sequence[Mapping[str, Any]]) -> list[Field]:
    return [Field.of(item) for item in data]


def definition_problems(field: Field) -> dict[str, list[str]]:
    """What is wrong with a field as the office defined it, by the part that is wrong
    (``kind``, ``label`` or ``choices``): the builder shows each next to its input."""
    problems: dict[str, list[str]] = {}
    if field.kind not in KINDS:
        problems.setdefault("kind", []).append(_("Please choose a kind of field."))
    if not field.label.strip():
        problems.setdefault("label", []).append(_("Please give the field a label."))
    if field.kind in WITH_CHOICES:
        choices = [c.strip() for c in field.choices]
        wrong = problems.setdefault("choices", [])
        if len([c for c in choices if c]) < 2:
            wrong.append(_("Please give at least two choices, one a line."))
        if len(set(choices)) != len(choices):
            wrong.append(_("Each choice must be different."))
        if len(choices) > MAX_CHOICES:
            wrong.append(_("Please give at most %(count)s choices.") % {"count": MAX_CHOICES})
        if not wrong:
            del problems["choices"]
    return problems


def definition_errors(field: Field) -> list[str]:
    """What is wrong with a field as the office defined it, all parts together."""
    return [problem for part in definition_problems(field).values() for problem in part]


# Answers -------------------------------------------------------------------------------------


class Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def typed(field: Field, posted: Mapping[str, Any]) -> Any:
    """What the browser sent for ``field``, as typed (kept as is in a draft).

    A browser sends a line break in a text area as CR LF; it is kept as one LF, as the screen
    and the PDF show it, and counts as one character.
    """
    name = f"f-{field.key}"
    if field.kind == MULTIPLE:
        getlist = getattr(posted, "getlist", None)
        values = getlist(name) if getlist else posted.get(name, [])
        return [str(v) for v in values][:MAX_CHOICES]
    if field.kind == SIGNATURE:
        return {
            "name": str(posted.get(name, ""))[:MAX_SHORT],
            "agreed": posted.get(f"{name}-agree") in ("on", "yes", "true", True),
        }
    text = str(posted.get(name, "")).replace("\r\n", "\n").replace("\r", "\n")
    return text[:MAX_LONG]


def answer_clean(field: Field, value: Any, *, now: datetime.datetime) -> Any:
    """The answer kept for ``value`` (as ``typed`` gave it), or raise Invalid with why.

    An empty answer is None (or [] for multiple choice); a required field refuses it.
    """
    if field.kind == MULTIPLE:
        chosen = [v for v in (value or []) if v]
        if any(v not in field.choices for v in chosen):
            raise Invalid(_("Please choose from the choices shown."))
        if field.required and not chosen:
            raise Invalid(_("Please choose at least one."))
        return [c for c in field.choices if c in chosen]  # in the form's order, once each
    if field.kind == SIGNATURE:
        signed = value if isinstance(value, Mapping) else {}
        name = " ".join(str(signed.get("name", "")).split())
        agreed = bool(signed.get("agreed"))
        if not name and not agreed:
            if field.required:
                raise Invalid(_("Please type your full name and tick “I agree” to sign."))
            return None
        if not name:
            raise Invalid(_("Please type your full name to sign."))
        if not agreed:
            raise Invalid(_("Please tick “I agree” to sign."))
        return {"name": name, "agreed": True, "signed_at": now.isoformat()}
    text = str(value or "").strip()
    if not text:
        if field.required:
            raise Invalid(_("Please answer this question."))
        return None
    if field.kind == SHORT_TEXT:
        if len(text) > MAX_SHORT or "\n" in text:
            raise Invalid(
                _("Please keep this to one line of at most %(count)s characters.")
                % {"count": MAX_SHORT}
            )
        return text
    if field.kind == LONG_TEXT:
        if len(text) > MAX_LONG:
            raise Invalid(_("Please keep this under %(count)s characters.") % {"count": MAX_LONG})
        return text
    if field.kind == DATE:
        return _date(text).isoformat()
    if field.kind == NUMBER:
        return _number(text)
    if field.kind == YES_NO:
        if text not in ("yes", "no"):
            raise Invalid(_("Please choose Yes or No."))
        return text
    if field.kind == SINGLE:
        if text not in field.choices:
            raise Invalid(_("Please choose one of the choices shown."))
        return text
    raise Invalid(_("This field cannot be answered."))


def _date(text: str) -> datetime.date:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y"):
        try:
            day = datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if not 1900 <= day.year <= 2200:
            break
        return day
    raise Invalid(_("Please enter a date, for example 03/14/1980."))


_NUMBER = re.compile(r"^-?\d{1,12}([.,]\d{1,6})?$")


def _number(text: str) -> str:
    cleaned = text.replace(" ", "")
    if not _NUMBER.match(cleaned):
        raise Invalid(_("Please enter a number, for example 12 or 3.5."))
    try:
        return str(Decimal(cleaned.replace(",", ".")).normalize())
    except InvalidOperation:
        raise Invalid(_("Please enter a number, for example 12 or 3.5.")) from None


def answers_clean(
    fields: Sequence[Field], posted: Mapping[str, Any], *, now: datetime.datetime
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(answers to keep, what was typed, errors by field key) for a whole form."""
    answers: dict[str, Any] = {}
    as_typed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        if not field.asks:
            continue
        value = typed(field, posted)
        as_typed[field.key] = value
        try:
            answers[field.key] = answer_clean(field, value, now=now)
        except Invalid as invalid:
            errors[field.key] = invalid.message
    return answers, as_typed, errors


def answer_text(field: Field, answer: Any) -> str:
    """An answer as the office's screen and the PDF both show it (plain text, never HTML)."""
    if answer is None or answer == [] or answer == "":
        return _("(no answer)")
    if field.kind == MULTIPLE:
        return "; ".join(answer)
    if field.kind == YES_NO:
        return _("Yes") if answer == "yes" else _("No")
    if field.kind == DATE:
        return formats.date_format(datetime.date.fromisoformat(answer), "m/d/Y")
    if field.kind == SIGNATURE:
        signed_at = timezone.localtime(datetime.datetime.fromisoformat(answer["signed_at"]))
        return _("Signed by %(name)s (“I agree”) on %(when)s") % {
            "name": answer["name"],
            "when": formats.date_format(signed_at, "m/d/Y g:i A"),
        }
    return str(answer)
