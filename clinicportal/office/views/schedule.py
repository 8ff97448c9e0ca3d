"""Schedule: the practice's day and week calendar of appointments, by provider (issue 14).

Days are the practice's: the view runs in its time zone, so "today" and every time shown are its
wall-clock. Each provider's hours and days off are shown with the appointments, and a request
waiting for the office is marked in words and colour. The whole of Schedule, the office's pages
too, is there only while the practice has it switched on (Admin → Website).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinicportal.core.access import NotFound
from clinicportal.core.reversing import reverse_with_id_slot
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.schedule_forms import CalendarForm
from clinicportal.scheduling.calendar import calendar_for, schedule_providers
from clinicportal.scheduling.models import Provider

WEEK = 7


def schedule_on(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 404, as for an unknown page, while the practice has Schedule switched off.

    Goes inside ``staff_required``, which sets the actor.
    """

    @wraps(view)
    def wrapped(request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.actor.practice.schedule_enabled:
            raise Http404("Schedule is switched off.")
        return view(request, *args, **kwargs)

    return wrapped


def chosen_provider(providers: list[Provider], raw: str) -> Provider | None:
    """The provider named by ``?provider=`` among ``providers``; none named is None.

    Anything else, another practice's provider or not an id at all, is not found.
    """
    if not raw:
        return None
    for provider in providers:
        if str(provider.public_id) == raw.strip().lower():
            return provider
    raise NotFound("No such provider.")


def _day_of(form: CalendarForm) -> datetime.date:
    if form.is_valid() and form.cleaned_data["day"]:
        day: datetime.date = form.cleaned_data["day"]
        return day
    return timezone.localdate()


def _link(view: str, day: datetime.date, provider: Provider | None) -> str:
    params = {"day": day.isoformat()}
    if provider is not None:
        params["provider"] = str(provider.public_id)
    return f"{reverse(view)}?{urlencode(params)}"


def _calendar_context(
    request: StaffRequest, view: str, step: int
) -> tuple[dict[str, Any], datetime.date, Provider | None, list[Provider]]:
    """What both calendars share: the choices form, the day, the provider and the links."""
    providers = schedule_providers(actor=request.actor)
    provider = chosen_provider(providers, request.GET.get("provider", ""))
    today = timezone.localdate()
    chosen = request.GET.copy()
    if not chosen.get("day"):
        chosen["day"] = today.isoformat()  # the field says which day is shown, from the start
    form = CalendarForm(chosen, providers=providers)
    day = _day_of(form)
    if step == WEEK:
        day -= datetime.timedelta(days=day.weekday())  # the week's Monday
    context = {
        "form": form,
        "provider": provider,
        "today": today,
        "previous_url": _link(view, day - datetime.timedelta(days=step), provider),
        "next_url": _link(view, day + datetime.timedelta(days=step), provider),
        "today_url": _link(view, today, provider),
        "day_url": _link("office:schedule", day, provider),
        "week_url": _link("office:schedule_week", day, provider),
        "appointment_url": reverse_with_id_slot("office:appointment"),
        "patient_url": reverse_with_id_slot("office:patient"),
        "no_providers": not providers,
    }
    return context, day, provider, providers


@require_GET
@staff_required
@schedule_on
def schedule(request: StaffRequest) -> HttpResponse:
    """One day: a column for each provider (or the one chosen) with the day's appointments."""
    context, day, provider, providers = _calendar_context(request, "office:schedule", 1)
    calendar = calendar_for(actor=request.actor, days=[day], providers=providers, only=provider)
    context |= {"day": day, "columns": calendar.on(day), "view": "day"}
    return render(
        request, "office/schedule_day.html", context, status=400 if context["form"].errors else 200
    )


@require_GET
@staff_required
@schedule_on
def schedule_week(request: StaffRequest) -> HttpResponse:
    """A week, Monday to Sunday: for each provider (or the one chosen), its seven days."""
    context, monday, provider, providers = _calendar_context(request, "office:schedule_week", WEEK)
    days = [monday + datetime.timedelta(days=n) for n in range(WEEK)]
    calendar = calendar_for(actor=request.actor, days=days, providers=providers, only=provider)
    context |= {
        "day": monday,
        "sunday": days[-1],
        "weeks": [(p, calendar.of(p)) for p in calendar.providers],
        "view": "week",
    }
    return render(
        request, "office/schedule_week.html", context, status=400 if context["form"].errors else 200
    )
