"""The form of Admin → Messages: the promised response time and the practice's categories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.forms.boundfield import BoundField, BoundWidget
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinicportal.messaging.models import Category, MessagingSettings

NAME_MAX = 60  # messaging_settings_save keeps at most this much of a name


@dataclass(frozen=True)
class CategoryRow:
    """One category on the page: its default name, its name field and its "offered" box."""

    value: str
    default: str
    name: BoundField
    offered: BoundWidget


class MessageSettingsForm(forms.Form):
    """``name_<category>`` for each category (blank: the default), and the ones ``offered``."""

    response_time = forms.CharField(
        label=MessagingSettings._meta.get_field("response_time").verbose_name,
        max_length=100,
        # messaging_settings_save refuses a blank one, with the categories' problem if any:
        # both are shown at once.
        required=False,
        help_text=_(
            "Patients see it before they send, and in the automatic reply to each new "
            "message, e.g. “within 2 business days”."
        ),
    )
    offered = forms.MultipleChoiceField(
        label=_("Offered to patients"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in Category.choices:
            self.fields[f"name_{value}"] = forms.CharField(
                label=_("Name patients see"),
                max_length=NAME_MAX,
                required=False,
                help_text=gettext("Leave it blank for “%(name)s”.") % {"name": label},
            )

    @classmethod
    def initial_for(cls, config: MessagingSettings) -> dict[str, Any]:
        """The form's starting values from the practice's saved settings (or the defaults)."""
        initial: dict[str, Any] = {
            "response_time": config.response_time,
            "offered": [value for value in Category.values if value not in config.categories_off],
        }
        for value in Category.values:
            initial[f"name_{value}"] = config.category_names.get(value, "")
        return initial

    def rows(self) -> list[CategoryRow]:
        boxes = {box.data["value"]: box for box in self["offered"]}
        return [
            CategoryRow(value, str(label), self[f"name_{value}"], boxes[value])
            for value, label in Category.choices
        ]

    def service_arguments(self) -> dict[str, Any]:
        """What messaging_settings_save takes, from the cleaned data."""
        data = self.cleaned_data
        offered = set(data["offered"])
        return {
            "response_time": data["response_time"],
            "names": {value: data[f"name_{value}"] for value in Category.values},
            "off": [value for value in Category.values if value not in offered],
        }
