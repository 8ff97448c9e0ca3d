"""Schedule → an appointment: who, when, who booked it and what happened since; confirm a
request, move it to another free time, or cancel it, each with a message to the patient.

Confirming and cancelling twice is once (the services change only what is still to change); a
move is taken once per form (office/once.py), so a double click moves it once.
"""

from __future__ import annotations

import datetime
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicportal.core.forms import service_errors
from clinicportal.messaging.selectors import appointment_open_tasks
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.once import Sent, submit_once
from clinicportal.office.schedule_forms import (
    NOT_A_TIME,
    CancelForm,
    ConfirmForm,
    MoveFindForm,
    MoveForm,
    slot_rows,
)
from clinicportal.office.views.schedule import chosen_provider, schedule_on
from clinicportal.scheduling import services
from clinicportal.scheduling.calendar import appointment_history, office_appointment
from clinicportal.scheduling.models import Appointment
from clinicportal.scheduling.selectors import providers_for, schedule_settings_for, slots_for

# Where a service's error about a time goes on the move form.
TIME_FIELDS = {"starts_at": "time", "provider": "time"}


def when(appointment: Appointment) -> str:
    """ "Tuesday 12/08/2026, 9:00 AM", in the practice's zone (the view runs in it)."""
    return formats.date_format(timezone.localtime(appointment.starts_at), "l m/d/Y, g:i A")


def booked_by(appointment: Appointment) -> str:
    if appointment.booked_by_account is not None:
        return _("%(name)s, online") % {"name": appointment.booked_by_account.display_name}
    if appointment.booked_by_user is not None:
        staff = getattr(appointment.booked_by_user, "staff_member", None)
        name = staff.display_name if staff is not None else appointment.booked_by_user.username
        return _("%(name)s, at the office") % {"name": name}
    return ""


def _url(appointment: Appointment) -> str:
    return reverse("office:appointment", args=[appointment.public_id])


def _page(
    request: StaffRequest,
    appointment: Appointment,
    *,
    confirm: ConfirmForm | None = None,
    cancel: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "appointment": appointment,
        "patient": appointment.patient,
        "when": when(appointment),
        "booked_by": booked_by(appointment),
        "history": appointment_history(actor=request.actor, appointment=appointment),
        "tasks": appointment_open_tasks(actor=request.actor, appointment_id=appointment.pk),
        "confirm_form": confirm or ConfirmForm(prefix="confirm"),
        "cancel_form": cancel or CancelForm(prefix="cancel"),
        "past": appointment.ends_at <= timezone.now(),
    }
    return render(request, "office/appointment.html", context, status=status)


@require_GET
@staff_required
@schedule_on
def appointment(request: StaffRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """The appointment, its history, and what the office may do with it (the opening audited)."""
    found = office_appointment(actor=request.actor, public_id=appointment_id)
    services.appointment_view(actor=request.actor, appointment=found)
    return _page(request, found)


@require_POST
@staff_required
@schedule_on
def appointment_confirm(request: StaffRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Confirm a requested time, with an optional message to the patient."""
    found = office_appointment(actor=request.actor, public_id=appointment_id)
    form = ConfirmForm(request.POST, prefix="confirm")
    if form.is_valid():
        was_requested = found.status == Appointment.Status.REQUESTED
        try:
            services.appointment_confirm(
                actor=request.actor, appointment=found, message=form.cleaned_data["message"]
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            if was_requested:
                messages.success(
                    request,
                    _("Confirmed: %(patient)s, %(when)s with %(provider)s.") % _names(found),
                )
            else:
                messages.info(
                    request, _("This appointment was already confirmed; nothing changed.")
                )
            return redirect(_url(found))
    return _page(request, found, confirm=form, status=400)


@require_POST
@staff_required
@schedule_on
def appointment_cancel(request: StaffRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Cancel, with an optional message to the patient: the time is free again."""
    found = office_appointment(actor=request.actor, public_id=appointment_id)
    form = CancelForm(request.POST, prefix="cancel")
    if form.is_valid():
        was_live = found.is_live
        services.appointment_cancel(
            actor=request.actor, appointment=found, message=form.cleaned_data["message"]
        )
        if was_live and found.cancelled_by_name == request.actor.name:
            messages.success(request, _("Cancelled: %(patient)s, %(when)s.") % _names(found))
        else:
            messages.info(
                request,
                _("This appointment was already cancelled by %(name)s; nothing changed.")
                % {"name": found.cancelled_by_name},
            )
        return redirect(_url(found))
    return _page(request, found, cancel=form, status=400)


def _names(appointment: Appointment) -> dict[str, str]:
    return {
        "patient": appointment.patient.full_name,
        "when": when(appointment),
        "provider": appointment.provider.name,
    }


@require_http_methods(["GET", "POST"])
@staff_required
@schedule_on
def appointment_move(request: StaffRequest, appointment_id: uuid.UUID) -> HttpResponse:
    """Move to a free time of the same provider or another who sees the visit, a day at a time.

    The day and provider to look at are in the address; the time and the message are posted.
    """
    actor = request.actor
    found = office_appointment(actor=actor, public_id=appointment_id)
    providers = providers_for(actor.practice, found.type)
    provider = chosen_provider(providers, request.GET.get("provider", ""))
    today = timezone.localdate()
    day = max(timezone.localtime(found.starts_at).date(), today)  # its own day, or today
    find = MoveFindForm(request.GET or None, providers=providers, initial={"day": day})
    if find.is_valid() and find.cleaned_data["day"]:
        day = find.cleaned_data["day"]
    form = MoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        provider_id, starts_at = form.cleaned_data["time"]
        to = next((p for p in providers if p.public_id == provider_id), None)
        if to is None:
            form.add_error("time", NOT_A_TIME)
        else:

            def move() -> Sent:
                services.appointment_move(
                    actor=actor,
                    appointment=found,
                    choice=services.Choice(found.type, to, starts_at),
                    message=form.cleaned_data["message"],
                )
                found.refresh_from_db()
                found.provider = to
                return Sent(
                    _url(found),
                    _("Moved: %(patient)s, now %(when)s with %(provider)s.") % _names(found),
                )

            try:
                return submit_once(request, actor=actor, write=move)
            except services.SlotTaken as exc:
                form.add_error("time", exc)
            except ValidationError as exc:
                service_errors(form, exc, rename=TIME_FIELDS)
    # The times are read after any post, so a time just taken is no longer offered.
    slots = slots_for(
        practice=actor.practice,
        kind=found.type,
        providers=[provider] if provider is not None else providers,
        days=[day],
        earliest=timezone.now(),
        config=schedule_settings_for(actor.practice),
        ignoring=found,
    )
    context = {
        "appointment": found,
        "patient": found.patient,
        "when": when(found),
        "find": find,
        "form": form,
        "day": day,
        "slots": slot_rows(slots, providers),
        "previous_url": _day_link(found, day - datetime.timedelta(days=1), provider),
        "next_url": _day_link(found, day + datetime.timedelta(days=1), provider),
        "show_previous": day > today,
    }
    status = 400 if request.method == "POST" or find.errors else 200
    return render(request, "office/appointment_move.html", context, status=status)


def _day_link(appointment: Appointment, day: datetime.date, provider: object) -> str:
    params = {"day": day.isoformat()}
    if provider is not None:
        params["provider"] = str(getattr(provider, "public_id", ""))
    return f"{reverse('office:appointment_move', args=[appointment.public_id])}?{urlencode(params)}"
