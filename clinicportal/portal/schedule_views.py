"""SCHEDULE: the patient's appointments, booking a free time, and moving or cancelling one.

Shown while the practice has Schedule on; otherwise every route here is a 404 and the menu
leaves it out. With online scheduling off the office books: the list and each appointment's page
are shown, with the office's phone, and the routes that book, cancel or move are a 404 until
patients may book or request online (scheduling.selectors.online_booking_open).

Booking goes: the kind of visit, then a provider or any, then a week of free times, then a
confirmation. Each step is a GET carrying what was chosen so far in the query string; only the
confirmation posts. Moving goes the same way for the appointment's kind of visit. Times are the
practice's wall clock: the views run in its zone (portal.auth).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinicportal.core.access import NotFound
from clinicportal.core.reversing import reverse_with_id_slot
from clinicportal.portal.auth import PortalRequest, portal_required
from clinicportal.portal.schedule_forms import (
    BookForm,
    TimeForm,
    TypeForm,
)
from clinicportal.portal.schedule_steps import (
    TEMPLATE,
    choose,
    confirmation_page,
    day_of,
    errors_on_top,
    page,
    picking_for,
    times_page,
)
from clinicportal.scheduling import services
from clinicportal.scheduling.models import Appointment, ScheduleSettings
from clinicportal.scheduling.selectors import (
    appointment_get,
    appointments_for_patient,
    change_deadline,
    online_booking_open,
    provider_get,
    schedule_settings_for,
    type_get,
    types_for,
)
from clinicportal.scheduling.services import Choice, SlotTaken

PAST_SHOWN = 50  # the newest; the office has them all


def schedule_shown(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 404 on the appointments' pages while Schedule is switched off.

    With Schedule on and online scheduling off, the office books: its patients still see their
    appointments (each email links to one), but book, cancel and move nothing online.
    """

    @wraps(view)
    def wrapped(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.practice.schedule_enabled:
            raise Http404("Schedule is off.")
        return view(request, *args, **kwargs)

    return wrapped


def schedule_on(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 404 on every route that books, cancels or moves while patients cannot book online."""

    @wraps(view)
    def wrapped(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not online_booking_open(request.practice):
            raise Http404("Schedule is off.")
        return view(request, *args, **kwargs)

    return wrapped


# The list ------------------------------------------------------------------------------------


@require_GET
@portal_required()
@schedule_shown
def schedule(request: PortalRequest) -> HttpResponse:
    """Upcoming appointments, soonest first; then past and cancelled ones, newest first."""
    config = schedule_settings_for(request.practice)
    now = timezone.now()
    mine = appointments_for_patient(actor=request.portal)
    upcoming = mine.filter(status__in=Appointment.LIVE, ends_at__gt=now)
    earlier = mine.exclude(status__in=Appointment.LIVE, ends_at__gt=now).order_by(
        "-starts_at", "-id"
    )
    context = {
        "config": config,
        "online": config.online,
        "requesting": config.mode == ScheduleSettings.Mode.REQUEST,
        "upcoming": list(upcoming),
        "earlier": list(earlier[:PAST_SHOWN]),
        "past_shown": PAST_SHOWN,
        "appointment_url": reverse_with_id_slot("portal:appointment", request.practice.slug),
    }
    return page(request, "portal/schedule.html", context)


@require_http_methods(["GET", "POST"])
@portal_required()
@schedule_on
def schedule_book(request: PortalRequest) -> HttpResponse:
    """Book (or, in request mode, ask for) an appointment, step by step."""
    config = schedule_settings_for(request.practice)
    if request.method == "POST":
        return _book(request, config)
    types = list(types_for(request.practice, online_only=True))
    only = {"type": str(types[0].public_id)} if len(types) == 1 else None
    form = TypeForm(request.GET if "type" in request.GET else None, types=types, initial=only)
    if not form.is_valid():
        context = {
            "step": "type",
            "type_form": form,
            "types": types,
            "requesting": config.mode == ScheduleSettings.Mode.REQUEST,
        }
        return page(request, TEMPLATE, context, 400 if form.errors else 200)
    return choose(request, config, form.cleaned_data["type"], None)


def _start_again(request: PortalRequest, config: ScheduleSettings) -> HttpResponse:
    """A confirmation that names nothing bookable (changed, or far too old): from the start."""
    types = list(types_for(request.practice, online_only=True))
    context = {
        "step": "type",
        "type_form": TypeForm(types=types),
        "types": types,
        "requesting": config.mode == ScheduleSettings.Mode.REQUEST,
        "error": _("That choice is no longer available. Please choose your visit again."),
    }
    return page(request, TEMPLATE, context, 400)


def _book(request: PortalRequest, config: ScheduleSettings) -> HttpResponse:
    form = BookForm(request.POST)
    if not form.is_valid():
        return _start_again(request, config)
    try:
        kind = type_get(request.practice, form.cleaned_data["type"], online_only=False)
        provider = provider_get(request.practice, form.cleaned_data["provider"])
    except NotFound:
        return _start_again(request, config)
    at = form.cleaned_data["at"]
    chosen = None if form.cleaned_data["any"] else provider
    picking = picking_for(request, config, kind, None).with_provider(chosen)
    try:
        booked = services.appointment_book(
            actor=request.portal,
            choice=Choice(kind, provider, at),
            key=form.cleaned_data["key"],
        )
    except SlotTaken as taken:
        return times_page(
            request, picking, week=day_of(request, at), error=taken.messages[0], status=409
        )
    except ValidationError as exc:
        errors_on_top(form, exc)
        return confirmation_page(request, picking, provider, at, form, status=400)
    if booked.status == Appointment.Status.CANCELLED:
        # This form booked before, and that appointment has been cancelled since (the browser's
        # Back, then the old button): book again from a new choice, with a new form.
        error = _("This appointment was cancelled. To book again, please choose a time.")
        return times_page(request, picking, week=day_of(request, at), error=error, status=400)
    if booked.status == Appointment.Status.REQUESTED:
        messages.success(
            request,
            _("Your request was sent. The office will confirm the time, or offer you another."),
        )
    else:
        messages.success(request, _("Your appointment is booked."))
    return redirect("portal:appointment", request.practice.slug, booked.public_id)


# One appointment -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    """What the patient may still do online with an appointment."""

    deadline: datetime.datetime
    cancel: bool
    move: bool
    upcoming: bool


def _changes(appointment: Appointment, config: ScheduleSettings) -> Changes:
    now = timezone.now()
    deadline = change_deadline(appointment.starts_at, config)
    cancel = config.online and appointment.is_live and now <= deadline
    return Changes(
        deadline=deadline,
        cancel=cancel,
        # The services refuse a move to a kind of visit not booked online; say so at once.
        move=cancel and appointment.type.is_online,
        upcoming=appointment.is_live and appointment.starts_at > now,
    )


def _appointment_context(request: PortalRequest, found: Appointment) -> dict[str, Any]:
    config = schedule_settings_for(request.practice)
    return {
        "appointment": found,
        "config": config,
        "changes": _changes(found, config),
        "online": config.online,
        "requesting": config.mode == ScheduleSettings.Mode.REQUEST,
    }


@require_GET
@portal_required()
@schedule_shown
def appointment(request: PortalRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """One appointment: when, with whom, what to bring; Cancel and Reschedule before the
    cut-off, and after it the office's phone."""
    found = appointment_get(actor=request.portal, public_id=appointment_id)
    return page(request, "portal/appointment.html", _appointment_context(request, found))


def _to_appointment(request: PortalRequest, found: Appointment) -> HttpResponse:
    return redirect("portal:appointment", request.practice.slug, found.public_id)


@require_http_methods(["GET", "POST"])
@portal_required()
@schedule_on
def appointment_cancel(request: PortalRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Ask "cancel this appointment?"; the post cancels it (before the cut-off)."""
    found = appointment_get(actor=request.portal, public_id=appointment_id)
    context = _appointment_context(request, found)
    if request.method == "GET" and not context["changes"].cancel:
        return _to_appointment(request, found)  # which says why not, and whom to call
    form = forms.Form(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_valid():  # posted (there is nothing to fill in)
        try:
            services.appointment_cancel(actor=request.portal, appointment=found)
        except ValidationError as exc:
            errors_on_top(form, exc)
            status = 400
        else:
            messages.success(request, _("Your appointment was cancelled."))
            return redirect("portal:schedule", request.practice.slug)
    return page(request, "portal/appointment_cancel.html", {**context, "form": form}, status)


@require_http_methods(["GET", "POST"])
@portal_required()
@schedule_on
def appointment_move(request: PortalRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Choose a new free time for the appointment, as when booking; the post moves it."""
    found = appointment_get(actor=request.portal, public_id=appointment_id)
    config = schedule_settings_for(request.practice)
    if request.method == "POST":
        return _move(request, config, found)
    if not _changes(found, config).move:
        return _to_appointment(request, found)
    return choose(request, config, found.type, found)


def _move(request: PortalRequest, config: ScheduleSettings, found: Appointment) -> HttpResponse:
    form = TimeForm(request.POST)
    picking = picking_for(request, config, found.type, found)
    if not form.is_valid():
        error = _("Please choose one of the times shown.")
        return times_page(request, picking, week=None, error=error, status=400)
    try:
        provider = provider_get(request.practice, form.cleaned_data["provider"])
    except NotFound:
        error = _("Please choose one of the times shown.")
        return times_page(request, picking, week=None, error=error, status=400)
    at = form.cleaned_data["at"]
    if not form.cleaned_data["any"]:
        picking = picking.with_provider(provider)
    try:
        moved = services.appointment_move(
            actor=request.portal, appointment=found, choice=Choice(found.type, provider, at)
        )
    except SlotTaken as taken:
        return times_page(
            request, picking, week=day_of(request, at), error=taken.messages[0], status=409
        )
    except ValidationError as exc:
        errors_on_top(form, exc)
        return confirmation_page(request, picking, provider, at, form, status=400)
    when = date_format(timezone.localtime(moved.starts_at), "l, F j, g:i A")
    if moved.status == Appointment.Status.REQUESTED:
        messages.success(
            request,
            _(
                "Your request to move the appointment to %(when)s was sent. The office will "
                "confirm it."
            )
            % {"when": when},
        )
    else:
        messages.success(request, _("Your appointment was moved to %(when)s.") % {"when": when})
    return _to_appointment(request, moved)
