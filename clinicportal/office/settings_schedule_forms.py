"""The forms of Admin → Schedule: the online mode, a provider with their week, a day off, a type.

A provider's week is a row of start and end times for each block of each weekday, with one
blank row a day to add a block. "Add a block" and "Copy Monday" are submit buttons: the page
comes back with the rows rearranged and nothing saved, so the editor needs no JavaScript.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.forms.boundfield import BoundField, BoundWidget
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from clinicportal.scheduling.models import AppointmentType, Provider, ScheduleSettings
from clinicportal.scheduling.setup import BLOCKS_PER_DAY, INSTRUCTIONS_MAX, SETTING_RANGES
from clinicportal.scheduling.slots import Block

WHOLE_NUMBER = _("Please enter a whole number.")
SLOT_CHOICES = [5, 10, 15, 20, 30, 45, 60, 90, 120]
TIME_FORMATS = ["%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p", "%I %p", "%I%p"]
ADD = "add_block"  # the button that adds a row to its day (its value: the weekday)
COPY = "copy_monday"  # the button that copies Monday's rows to Tuesday to Friday


def _number(label: Any, name: str, help_text: Any) -> forms.IntegerField:
    low, high = SETTING_RANGES[name]
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        error_messages={"required": WHOLE_NUMBER, "invalid": WHOLE_NUMBER},
        widget=forms.NumberInput(attrs={"min": low, "max": high, "inputmode": "numeric"}),
    )


def _field_label(name: str) -> Any:
    return getattr(ScheduleSettings._meta.get_field(name), "verbose_name", name)


class ScheduleSettingsForm(forms.Form):
    mode = forms.ChoiceField(
        label=_field_label("mode"),
        choices=ScheduleSettings.Mode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose how patients book online.")},
    )
    cutoff_hours = _number(
        _field_label("cutoff_hours"),
        "cutoff_hours",
        _("After that, patients call the office. 24 is a day; 0 lets them change up to the start."),
    )
    notice_hours = _number(
        _field_label("notice_hours"),
        "notice_hours",
        _("No one books online a time sooner than this, so the office has time to prepare."),
    )
    horizon_days = _number(
        _field_label("horizon_days"),
        "horizon_days",
        _("Times further ahead are not offered online yet."),
    )
    reminder_hours = _number(
        _field_label("reminder_hours"),
        "reminder_hours",
        _("Patients get a reminder email this long before each appointment."),
    )
    slot_minutes = forms.TypedChoiceField(
        label=_field_label("slot_minutes"),
        coerce=int,
        help_text=_("Times are offered this often from the start of each block of hours."),
    )

    def __init__(self, *args: Any, current_slot: int = 15, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        values = sorted({*SLOT_CHOICES, current_slot})
        self.fields["slot_minutes"].choices = [  # type: ignore[attr-defined]
            (value, _("%(count)s minutes") % {"count": value}) for value in values
        ]

    @classmethod
    def initial_for(cls, config: ScheduleSettings) -> dict[str, Any]:
        return {name: getattr(config, name) for name in cls.base_fields}


# A provider and their week -------------------------------------------------------------------


class DayBoundField(BoundField):
    """A time of a day's block: described by the day's error as well, and marked invalid."""

    def build_widget_attrs(
        self, attrs: dict[str, Any], widget: forms.Widget | None = None
    ) -> dict[str, Any]:
        attrs = super().build_widget_attrs(attrs, widget)
        day = f"rows_{self.field.weekday}"  # type: ignore[attr-defined]
        if self.form.is_bound and self.form.errors.get(day):
            described = str(attrs.get("aria-describedby") or "")
            attrs["aria-describedby"] = " ".join([f"id_{day}_error", *described.split()])
            attrs["aria-invalid"] = "true"
        return attrs


class BlockTimeField(forms.TimeField):
    def __init__(self, weekday: int, **kwargs: Any) -> None:
        self.weekday = weekday
        kwargs.setdefault("required", False)
        kwargs.setdefault("input_formats", TIME_FORMATS)
        kwargs.setdefault(
            "widget", forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": 300})
        )
        kwargs.setdefault(
            "error_messages", {"invalid": _("Please enter a time, for example 09:00 or 1:30 PM.")}
        )
        super().__init__(**kwargs)

    def get_bound_field(self, form: forms.BaseForm, field_name: str) -> BoundField:
        return DayBoundField(form, self, field_name)


@dataclass(frozen=True)
class BlockRow:
    number: int
    starts: BoundField
    ends: BoundField


@dataclass(frozen=True)
class DayRows:
    """One weekday on the page: its name, its hidden row count (holding the day's errors) and
    its rows of times."""

    weekday: int
    name: str
    count: BoundField
    rows: list[BlockRow]

    @property
    def can_add(self) -> bool:
        return len(self.rows) < BLOCKS_PER_DAY


def _rows_posted(data: Mapping[str, Any], weekday: int) -> int:
    try:
        count = int(data.get(f"rows_{weekday}", 1))
    except (TypeError, ValueError):
        count = 1
    return min(max(count, 1), BLOCKS_PER_DAY)


def _time_text(value: datetime.time) -> str:
    return value.strftime("%H:%M")


class ProviderForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=Provider._meta.get_field("name").max_length,
        help_text=_("As patients see it when they book, for example Dr. Ana Chen."),
        error_messages={"required": _("Please give the provider’s name.")},
    )
    active = forms.BooleanField(
        label=_("Takes appointments"),
        required=False,
        help_text=_(
            "Untick to stop offering their times. Appointments already booked with them stay."
        ),
    )

    def __init__(
        self, data: Mapping[str, Any] | None = None, *, rows: Mapping[int, int], **kwargs: Any
    ) -> None:
        super().__init__(data, **kwargs)
        for weekday in range(7):
            self.fields[f"rows_{weekday}"] = forms.IntegerField(
                widget=forms.HiddenInput, required=False, initial=rows[weekday]
            )
            for number in range(rows[weekday]):
                self.fields[f"h{weekday}_{number}_starts"] = BlockTimeField(
                    weekday, label=_("Starts")
                )
                self.fields[f"h{weekday}_{number}_ends"] = BlockTimeField(weekday, label=_("Ends"))
        self.rows = dict(rows)

    @classmethod
    def for_provider(cls, provider: Provider | None) -> ProviderForm:
        """The form as the page first shows it: the provider's hours and a blank row a day."""
        week: dict[int, list[tuple[datetime.time, datetime.time]]] = {d: [] for d in range(7)}
        initial: dict[str, Any] = {"name": "", "active": True}
        if provider is not None:
            initial = {"name": provider.name, "active": provider.active}
            for block in provider.hours.all():
                week[block.weekday].append((block.starts, block.ends))
        for weekday, blocks in week.items():
            for number, (starts, ends) in enumerate(sorted(blocks)):
                initial[f"h{weekday}_{number}_starts"] = _time_text(starts)
                initial[f"h{weekday}_{number}_ends"] = _time_text(ends)
        rows = {d: min(len(week[d]) + 1, BLOCKS_PER_DAY) for d in range(7)}
        return cls(rows=rows, initial=initial)

    @classmethod
    def posted(cls, data: Mapping[str, Any]) -> ProviderForm:
        return cls(data, rows={d: _rows_posted(data, d) for d in range(7)})

    @classmethod
    def rearranged(cls, data: Mapping[str, Any]) -> ProviderForm | None:
        """After "Add a block" or "Copy Monday": the form again as typed, rearranged, unsaved.

        None when the post is a save.
        """
        if ADD not in data and COPY not in data:
            return None
        rows = {d: _rows_posted(data, d) for d in range(7)}
        initial: dict[str, Any] = {"name": data.get("name", ""), "active": bool(data.get("active"))}
        for weekday in range(7):
            for number in range(rows[weekday]):
                for end in ("starts", "ends"):
                    key = f"h{weekday}_{number}_{end}"
                    initial[key] = data.get(key, "")
        # Where the keyboard carries on: the new row, or Tuesday's first row after a copy.
        focus = "h1_0_starts"
        if COPY in data:
            for weekday in range(1, 5):
                rows[weekday] = rows[0]
                for number in range(rows[0]):
                    for end in ("starts", "ends"):
                        initial[f"h{weekday}_{number}_{end}"] = initial[f"h0_{number}_{end}"]
        else:
            added = str(data.get(ADD, ""))
            if added.isdigit() and int(added) in rows:
                weekday = int(added)
                rows[weekday] = min(rows[weekday] + 1, BLOCKS_PER_DAY)
                focus = f"h{weekday}_{rows[weekday] - 1}_starts"
        form = cls(rows=rows, initial=initial)
        form.fields[focus].widget.attrs["autofocus"] = True
        return form

    def days(self) -> list[DayRows]:
        return [
            DayRows(
                weekday,
                str(WEEKDAYS[weekday]),
                self[f"rows_{weekday}"],
                [
                    BlockRow(
                        number + 1,
                        self[f"h{weekday}_{number}_starts"],
                        self[f"h{weekday}_{number}_ends"],
                    )
                    for number in range(self.rows[weekday])
                ],
            )
            for weekday in range(7)
        ]

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        for weekday in range(7):
            for number in range(self.rows[weekday]):
                starts = f"h{weekday}_{number}_starts"
                ends = f"h{weekday}_{number}_ends"
                if starts in self.errors or ends in self.errors:
                    continue
                given_starts = self.cleaned_data.get(starts) is not None
                given_ends = self.cleaned_data.get(ends) is not None
                if given_starts and not given_ends:
                    self.add_error(ends, _("Please give an end time too."))
                elif given_ends and not given_starts:
                    self.add_error(starts, _("Please give a start time too."))
        return data

    def hours(self) -> list[Block]:
        """The blocks typed in (rows left blank are left out)."""
        found: list[Block] = []
        for weekday in range(7):
            for number in range(self.rows[weekday]):
                starts = self.cleaned_data.get(f"h{weekday}_{number}_starts")
                ends = self.cleaned_data.get(f"h{weekday}_{number}_ends")
                if starts is not None and ends is not None:
                    found.append(Block(weekday, starts, ends))
        return found

    def service_rename(self) -> dict[str, str]:
        """The service names a day's problem ``hours_<weekday>``: the form shows it by the day."""
        return {f"hours_{weekday}": f"rows_{weekday}" for weekday in range(7)}


class DayOffForm(forms.Form):
    prefix = "day_off"  # beside another form on its page
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("Please choose the day."),
            "invalid": _("Please enter a date, for example 2027-01-15."),
        },
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=200,
        help_text=_("For the office only, for example Holiday or Training."),
    )


# Appointment types ---------------------------------------------------------------------------


class AppointmentTypeForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=AppointmentType._meta.get_field("name").max_length,
        help_text=_("As patients see it when they book, for example Eye exam."),
        error_messages={"required": _("Please give the appointment type a name.")},
    )
    minutes = forms.IntegerField(
        label=_("Length (minutes)"),
        widget=forms.NumberInput(attrs={"min": 5, "max": 480, "step": 5, "inputmode": "numeric"}),
        help_text=_(
            "From 5 to 480, in steps of 5. A new length applies to appointments booked from "
            "then on."
        ),
        error_messages={
            "required": _("Please enter the length in minutes, for example 30."),
            "invalid": _("Please enter the length in minutes, for example 30."),
        },
    )
    online = forms.ChoiceField(
        label=_("Who books it"),
        choices=AppointmentType.Online.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose who may book it.")},
    )
    instructions = forms.CharField(
        label=_("Instructions for the patient"),
        required=False,
        max_length=INSTRUCTIONS_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=AppointmentType._meta.get_field("instructions").help_text,
    )
    providers = forms.ModelMultipleChoiceField(
        label=_("Providers"),
        queryset=Provider.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Who sees patients for it. Tick none to offer it with every provider."),
    )
    active = forms.BooleanField(
        label=_("Offered"),
        required=False,
        help_text=_("Untick to stop offering it. Appointments already booked stay."),
    )

    def __init__(self, *args: Any, providers: QuerySet[Provider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["providers"]
        field.queryset = providers  # type: ignore[attr-defined]
        field.label_from_instance = _provider_choice  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, kind: AppointmentType | None) -> dict[str, Any]:
        if kind is None:
            return {"online": AppointmentType.Online.PATIENTS, "active": True}
        return {
            "name": kind.name,
            "minutes": kind.minutes,
            "online": kind.online,
            "instructions": kind.instructions,
            "providers": [p.pk for p in kind.providers.all()],
            "active": kind.active,
        }

    def boxes(self) -> list[BoundWidget]:
        return list(self["providers"])


def _provider_choice(provider: Provider) -> str:
    if provider.active:
        return provider.name
    return str(_("%(name)s (takes no appointments)") % {"name": provider.name})
