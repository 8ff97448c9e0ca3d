"""Admin → Schedule: how patients book online, and the days the whole practice is closed.

Providers are in settings_schedule_providers.py, appointment types in settings_schedule_types.py.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from clinicportal.core.forms import service_errors
from clinicportal.office.auth import StaffRequest, admin_required
from clinicportal.office.once import Sent, submit_once
from clinicportal.office.settings_schedule_forms import DayOffForm, ScheduleSettingsForm
from clinicportal.scheduling.selectors import schedule_settings_for
from clinicportal.scheduling.setup import day_off_add, day_off_remove, schedule_settings_save
from clinicportal.scheduling.setup_selectors import (
    day_off_get,
    days_off_ahead,
    live_appointments_on,
    setup_summary,
)

CLOSED = "#closed"  # the page's section of the whole practice's days off


def long_date(value: datetime.date) -> str:
    return formats.date_format(value, "l, F j, Y")


def day_off_added_message(count: int) -> str:
    """What to say of the live appointments on a new day off: they stay booked."""
    if not count:
        return ""
    return " " + ngettext(
        "The %(count)s appointment already booked that day stays booked: move or cancel it.",
        "The %(count)s appointments already booked that day stay booked: move or cancel them.",
        count,
    ) % {"count": count}


@require_http_methods(["GET", "POST"])
@admin_required
def settings_schedule(request: StaffRequest) -> HttpResponse:
    config = schedule_settings_for(request.actor.practice)
    form = ScheduleSettingsForm(
        request.POST or None,
        initial=ScheduleSettingsForm.initial_for(config),
        current_slot=config.slot_minutes,
    )
    if request.method == "POST" and form.is_valid():
        try:
            schedule_settings_save(actor=request.actor, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("The schedule settings were saved."))
            return redirect("office:settings_schedule")
    return _page(request, form=form)


def _page(
    request: StaffRequest,
    *,
    form: ScheduleSettingsForm | None = None,
    day_off_form: DayOffForm | None = None,
) -> HttpResponse:
    config = schedule_settings_for(request.actor.practice)
    if form is None:
        form = ScheduleSettingsForm(
            initial=ScheduleSettingsForm.initial_for(config), current_slot=config.slot_minutes
        )
    day_off_form = day_off_form or DayOffForm()
    context = {
        "form": form,
        "config": config,
        "summary": setup_summary(actor=request.actor),
        "days_off": days_off_ahead(actor=request.actor, provider=None),
        "day_off_form": day_off_form,
    }
    status = 400 if form.errors or day_off_form.errors else 200
    return render(request, "office/settings_schedule.html", context, status=status)


@require_POST
@admin_required
def practice_day_off_add(request: StaffRequest) -> HttpResponse:
    """Close the whole practice for a day: no one is offered times that day."""
    form = DayOffForm(request.POST)

    def add() -> Sent:
        date = form.cleaned_data["date"]
        day_off_add(
            actor=request.actor, provider=None, date=date, reason=form.cleaned_data["reason"]
        )
        said = _("The practice is closed on %(day)s.") % {"day": long_date(date)}
        count = live_appointments_on(actor=request.actor, provider=None, date=date)
        return Sent(
            reverse("office:settings_schedule") + CLOSED, said + day_off_added_message(count)
        )

    if form.is_valid():
        try:
            return submit_once(request, actor=request.actor, write=add)
        except ValidationError as exc:
            service_errors(form, exc)
    return _page(request, day_off_form=form)


@require_POST
@admin_required
def practice_day_off_remove(request: StaffRequest) -> HttpResponse:
    """Open the practice again on a day it was to be closed (the day's id is posted)."""
    day_off = day_off_get(
        actor=request.actor, provider=None, public_id=request.POST.get("day_off", "")
    )
    day_off_remove(actor=request.actor, day_off=day_off)
    messages.success(
        request, _("The practice is open again on %(day)s.") % {"day": long_date(day_off.date)}
    )
    return redirect(reverse("office:settings_schedule") + CLOSED)
