"""The portal's forms for SCHEDULE: the steps of choosing a time, and the confirmations.

Choosing is done with GET forms (a kind of visit, then a provider or any), each carrying what
was chosen before in the query string; only the confirmation posts. What may be booked is the
services' to decide (scheduling.services): these forms only offer the choices the selectors give
and carry the answer to them.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicportal.core.forms import OneTimeKeyField
from clinicportal.scheduling.models import AppointmentType, Provider

ANY = "any"
# A time in the query string and in the confirmation: its start in UTC, to the minute.
AT_FORMAT = "%Y-%m-%dT%H:%MZ"


def at_text(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime(AT_FORMAT)


def at_parse(text: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(text, AT_FORMAT).replace(tzinfo=datetime.UTC)
    except (TypeError, ValueError):
        return None


class TypeForm(forms.Form):
    """Step 1: the kind of visit, among those patients may book online."""

    type = forms.ChoiceField(
        label=_("What kind of visit?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose a kind of visit."),
            "invalid_choice": _("Please choose one of the kinds of visit shown."),
        },
    )

    def __init__(self, *args: Any, types: list[AppointmentType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.types = {str(kind.public_id): kind for kind in types}
        field = self.fields["type"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(public_id, kind.name) for public_id, kind in self.types.items()]

    def clean_type(self) -> AppointmentType:
        return self.types[self.cleaned_data["type"]]

    def options(self) -> list[tuple[forms.boundfield.BoundWidget, AppointmentType]]:
        """Each radio with its kind of visit, whose length and instructions go beside it."""
        return [(radio, self.types[str(radio.data["value"])]) for radio in self["type"]]


class ProviderForm(forms.Form):
    """Step 2: who the patient would like to see, or whoever is free first."""

    provider = forms.ChoiceField(
        label=_("Who would you like to see?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose a provider, or any provider."),
            "invalid_choice": _("Please choose one of the providers shown."),
        },
    )

    def __init__(self, *args: Any, providers: list[Provider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.providers = {str(provider.public_id): provider for provider in providers}
        field = self.fields["provider"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (ANY, _("Any provider: the first free time")),
            *((public_id, provider.name) for public_id, provider in self.providers.items()),
        ]

    def clean_provider(self) -> Provider | None:
        chosen = self.cleaned_data["provider"]
        return None if chosen == ANY else self.providers[chosen]


class TimeForm(forms.Form):
    """What a confirmation posts: the provider and the start, as the patient saw them.

    ``any`` remembers that the patient asked for any provider, so that a time just taken leads
    back to everyone's free times.
    """

    provider = forms.UUIDField(widget=forms.HiddenInput)
    at = forms.CharField(widget=forms.HiddenInput, max_length=20)
    any = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def clean_at(self) -> datetime.datetime:
        moment = at_parse(self.cleaned_data["at"])
        if moment is None:
            raise forms.ValidationError(_("Please choose one of the times shown."), code="at")
        return moment


class BookForm(TimeForm):
    """The confirmation of a new appointment: the kind of visit too, and the one-time key."""

    type = forms.UUIDField(widget=forms.HiddenInput)
    key = OneTimeKeyField()
