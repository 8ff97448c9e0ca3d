"""The forms of Admin → Forms: a form's details, and the field builder.

The builder needs no JavaScript. Its page is one form that posts every field, in order, with a
button per action: save, add the new field, move a field up or down, remove one. Each button
posts the whole list as shown, the action is applied to it, and ``form_fields_save`` saves the
result; whatever is wrong is shown next to the input it is about, and nothing is saved.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.utils.translation import gettext_lazy as _

from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field
from clinicportal.intake.models import Form

MAX_FIELDS = 200
LABEL_MAX = 300  # a question or a heading
TEXT_MAX = 2_000  # help text, and the text under a field or heading
CHOICES_MAX = kinds.MAX_CHOICES * 210
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class FormDetailsForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        error_messages={"required": _("Please give the form a name.")},
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Form.Kind.choices, initial=Form.Kind.INTAKE)
    description = forms.CharField(
        label=_("Description for patients"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown above the form in the portal, e.g. what it is for."),
    )
    offered_to_all = forms.BooleanField(
        label=_("Offered to every patient"),
        required=False,
        help_text=_(
            "Every patient sees it under FORMS until they submit it. Otherwise only patients "
            "it is assigned to (from their page) see it."
        ),
    )
    active = forms.BooleanField(
        label=_("In use"),
        required=False,
        initial=True,
        help_text=_(
            "A form not in use is not shown to patients and cannot be assigned. Its "
            "submissions are kept."
        ),
    )

    @classmethod
    def for_new(cls, data: Any = None) -> FormDetailsForm:
        """The details a new form starts with (it is in use from the start)."""
        form = cls(data)
        del form.fields["active"]
        return form

    @classmethod
    def initial_for(cls, form: Form) -> dict[str, Any]:
        return {name: getattr(form, name) for name in cls.base_fields}


def _choices_of(text: str) -> tuple[str, ...]:
    """One choice a line, spaces tidied, blank lines left out."""
    return tuple(c for c in (" ".join(line.split()) for line in text.splitlines()) if c)


class FieldForm(forms.Form):
    """One field of the form, as the office defines it (``kind`` is fixed once added)."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=40)
    kind = forms.ChoiceField(choices=list(kinds.KINDS.items()), widget=forms.HiddenInput)
    label = forms.CharField(label=_("Question"), required=False, max_length=TEXT_MAX)
    help = forms.CharField(
        label=_("Help text"),
        required=False,
        max_length=TEXT_MAX,
        help_text=_("Shown under the question, if any."),
    )
    required = forms.BooleanField(label=_("An answer is required"), required=False)
    choices = forms.CharField(
        label=_("Choices, one a line"),
        required=False,
        max_length=CHOICES_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fit_to_kind(str(self["kind"].value() or ""))

    def _fit_to_kind(self, kind: str) -> None:
        """Name and show the inputs as the kind of field needs them."""
        if kind == kinds.HEADING:
            self.fields["label"].label = _("Heading")
            self.fields["help"].label = _("Text under the heading")
            self.fields["help"].help_text = _("If any.")
        elif kind == kinds.HELP:
            self.fields["label"].label = _("Text")
            self.fields["label"].widget = forms.Textarea(attrs={"rows": 3})
            del self.fields["help"]
        elif kind == kinds.SIGNATURE:
            self.fields["label"].help_text = _(
                "e.g. “I have read the consent above.” Patients type their full name and "
                "tick “I agree”; the date and time are recorded."
            )
        if kind in kinds.STATIC:
            del self.fields["required"]
        if kind not in kinds.WITH_CHOICES:
            del self.fields["choices"]

    @property
    def kind_name(self) -> str:
        return str(kinds.KINDS.get(str(self["kind"].value()), ""))

    def clean_key(self) -> str:
        key = str(self.cleaned_data["key"])
        if not _KEY.match(key):
            raise forms.ValidationError(_("This field cannot be saved; please remove it."))
        return key

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        field = self.field()
        label_max = TEXT_MAX if field.kind == kinds.HELP else LABEL_MAX
        if len(field.label) > label_max:
            self.add_error(
                "label",
                _("Please keep this under %(count)s characters.") % {"count": label_max},
            )
        for part, problems in kinds.definition_problems(field).items():
            self.add_error(part if part in self.fields else None, problems)
        return data

    def field(self) -> Field:
        """The field as the service takes it (after ``is_valid``)."""
        data = self.cleaned_data
        kind = data["kind"]
        return Field(
            key=data["key"],
            kind=kind,
            label=str(data.get("label", "")).strip(),
            help=str(data.get("help", "")).strip(),
            required=bool(data.get("required", False)),
            choices=_choices_of(data.get("choices", "")),
        )


class NewFieldForm(FieldForm):
    """The field to add, at the end: its kind is chosen here, and all its parts typed at once."""

    kind = forms.ChoiceField(
        label=_("Kind of field"),
        choices=list(kinds.KINDS.items()),
        initial=kinds.SHORT_TEXT,
    )
    choices = forms.CharField(
        label=_("Choices, one a line"),
        required=False,
        max_length=CHOICES_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For single and multiple choice only."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "new")
        super().__init__(*args, **kwargs)
        del self.fields["key"]
        self.new_key = kinds.new_key()
        self.fields["label"].help_text = _(
            "The question; for a section heading, the heading; for help text, the text itself."
        )
        self.fields["help"].help_text = _("Shown under the question or heading, if any.")

    def _fit_to_kind(self, kind: str) -> None:
        """Every input is shown: the kind is chosen on the same form, without JavaScript."""

    @property
    def started(self) -> bool:
        """Whether anything was typed for a new field (then it is added with the rest)."""
        return any(
            str(self.data.get(self.add_prefix(name), "")).strip()
            for name in ("label", "help", "choices")
        )

    def field(self) -> Field:
        """The new field, its parts that its kind does not use left out."""
        data = self.cleaned_data
        kind = data["kind"]
        return Field(
            key=self.new_key,
            kind=kind,
            label=str(data.get("label", "")).strip(),
            help="" if kind == kinds.HELP else str(data.get("help", "")).strip(),
            required=kind not in kinds.STATIC and bool(data.get("required")),
            choices=_choices_of(data.get("choices", "")) if kind in kinds.WITH_CHOICES else (),
        )


class BaseFieldFormSet(BaseFormSet[FieldForm]):
    pass


FieldFormSet = formset_factory(
    FieldForm,
    formset=BaseFieldFormSet,
    extra=0,
    max_num=MAX_FIELDS,
    absolute_max=MAX_FIELDS,
    validate_max=True,
)


def field_formset(data: Any = None, *, fields: Sequence[Field] | None = None) -> BaseFieldFormSet:
    """The builder's rows: the fields as saved, or as posted."""
    initial = [
        {**f.as_data(), "choices": "\n".join(f.choices), "required": f.required}
        for f in fields or []
    ]
    return cast(BaseFieldFormSet, FieldFormSet(data, initial=initial, prefix="fields"))


def fields_digest(data: Sequence[Mapping[str, Any]]) -> str:
    """A short fingerprint of the saved fields, to notice that someone saved others meanwhile."""
    return hashlib.sha256(json.dumps(list(data), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Action:
    """What the builder's pressed button asks: ``save``, ``add``, ``up``, ``down`` or ``remove``
    (the last three with the index of their field)."""

    name: str
    index: int = -1

    @classmethod
    def parse(cls, value: str, count: int) -> Action:
        name, _, number = value.partition("-")
        if name in ("up", "down", "remove") and number.isdigit() and int(number) < count:
            return cls(name, int(number))
        return cls("add" if name == "add" else "save")

    def apply(self, fields: list[Field]) -> list[Field]:
        """The list of fields with this action done (moves past either end change nothing)."""
        moved = list(fields)
        n = self.index
        if self.name == "remove":
            del moved[n]
        elif self.name == "up" and n > 0:
            moved[n - 1], moved[n] = moved[n], moved[n - 1]
        elif self.name == "down" and n < len(moved) - 1:
            moved[n + 1], moved[n] = moved[n], moved[n + 1]
        return moved
