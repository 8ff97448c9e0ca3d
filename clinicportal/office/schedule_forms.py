"""The office's schedule forms: the day to show, a free time to take, and a message to send.

A free time is posted as "<provider id>@<start in seconds since 1970>": the service decides
whether it is still free, so a time taken meanwhile gets "that time was just taken" rather than
a choice that silently vanished.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from clinicportal.core.forms import OneTimeKeyField
from clinicportal.scheduling.models import AppointmentType, Provider
from clinicportal.scheduling.slots import Slot

NOT_A_TIME = _("Please choose one of the times shown.")
MESSAGE_MAX = 500


def slot_value(provider_public_id: uuid.UUID, starts_at: datetime.datetime) -> str:
    return f"{provider_public_id}@{int(starts_at.timestamp())}"


class TimeField(forms.CharField):
    """A free time as the page offered it: cleaned to (provider public id, aware UTC start)."""

    default_error_messages = {"required": NOT_A_TIME}

    def clean(self, value: Any) -> tuple[uuid.UUID, datetime.datetime] | None:
        text = super().clean(value)
        if not text:
            return None
        provider, _sep, seconds = str(text).partition("@")
        try:
            return uuid.UUID(provider), datetime.datetime.fromtimestamp(int(seconds), datetime.UTC)
        except (ValueError, OverflowError, OSError):
            raise ValidationError(NOT_A_TIME, code="invalid") from None


class MessageField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MESSAGE_MAX)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        kwargs.setdefault("label", _("Message to the patient (optional)"))
        super().__init__(**kwargs)


class DayField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Day"))
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(**kwargs)


def _provider_choices(
    field: forms.Field, empty: str, providers: list[Provider], *, mark_inactive: bool = False
) -> None:
    choices: list[tuple[str, str]] = [("", empty)]
    for p in providers:
        name = p.name
        if mark_inactive and not p.active:
            name = _("%(name)s (inactive)") % {"name": p.name}
        choices.append((str(p.public_id), str(name)))
    cast(forms.ChoiceField, field).choices = choices


class CalendarForm(forms.Form):
    """The calendar's choices (GET): a day and, optionally, one provider."""

    day = DayField()
    provider = forms.ChoiceField(label=_("Provider"), required=False)

    def __init__(self, *args: Any, providers: list[Provider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _provider_choices(
            self.fields["provider"], str(_("All providers")), providers, mark_inactive=True
        )


class VisitField(forms.ModelChoiceField[AppointmentType]):
    """The practice's visits, with their length; marked when only the office books them."""

    def label_from_instance(self, obj: AppointmentType) -> str:
        label = _("%(name)s (%(minutes)s min)") % {"name": obj.name, "minutes": obj.minutes}
        if obj.online != AppointmentType.Online.PATIENTS:
            label = _("%(visit)s, office only") % {"visit": label}
        return str(label)


class FindTimeForm(forms.Form):
    """Which free times to show when the office books (GET): the visit, who, and the day."""

    type = VisitField(
        label=_("Visit"),
        queryset=AppointmentType.objects.none(),
        to_field_name="public_id",
        empty_label=_("Choose a visit"),
        error_messages={"invalid_choice": _("Please choose one of the visits listed.")},
    )
    provider = forms.ChoiceField(label=_("Provider"), required=False)
    day = DayField()

    def __init__(
        self, *args: Any, types: QuerySet[AppointmentType], providers: list[Provider], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(VisitField, self.fields["type"]).queryset = types
        _provider_choices(self.fields["provider"], str(_("Anyone who sees this visit")), providers)


class MoveFindForm(forms.Form):
    """Which free times to offer for a move (GET): who and the day."""

    provider = forms.ChoiceField(label=_("Provider"), required=False)
    day = DayField()

    def __init__(self, *args: Any, providers: list[Provider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _provider_choices(self.fields["provider"], str(_("Anyone who sees this visit")), providers)


class BookForm(forms.Form):
    time = TimeField(label=_("Time"))
    key = OneTimeKeyField()


class MoveForm(forms.Form):
    time = TimeField(label=_("New time"))
    message = MessageField()


class ConfirmForm(forms.Form):
    message = MessageField(
        help_text=_("For example: please arrive ten minutes early. Leave empty for none.")
    )


class CancelForm(forms.Form):
    message = MessageField(
        label=_("Message to the patient about the cancellation (optional)"),
        help_text=_("For example: the doctor is away that day; please call us to book again."),
    )


@dataclass(frozen=True)
class SlotRow:
    """One free time offered as a radio button."""

    value: str
    starts_at: datetime.datetime
    provider_name: str


def slot_rows(slots: list[Slot], providers: list[Provider]) -> list[SlotRow]:
    """The radio buttons of a list of free times of ``providers``."""
    by_id = {p.pk: p for p in providers}
    return [
        SlotRow(
            slot_value(by_id[s.provider_id].public_id, s.starts_at),
            s.starts_at,
            by_id[s.provider_id].name,
        )
        for s in slots
    ]
