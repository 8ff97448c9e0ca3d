"""Book an appointment for a patient at the office (from the patient's page).

The visit, the provider (or anyone who sees it) and the day are chosen in the address; the free
times of that day are offered, a day at a time, and the chosen one is posted with the form's
one-time key, so a double click books once. The office may book visits patients cannot book
online, at any time from now on, but only in the provider's hours.
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
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinicportal.core.forms import service_errors
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.schedule_forms import NOT_A_TIME, BookForm, FindTimeForm, slot_rows
from clinicportal.office.views.schedule import schedule_on
from clinicportal.office.views.schedule_appointment import TIME_FIELDS, when
from clinicportal.patients import selectors as patient_selectors
from clinicportal.practices.models import Practice
from clinicportal.scheduling import services
from clinicportal.scheduling.calendar import schedule_providers
from clinicportal.scheduling.models import AppointmentType, Provider
from clinicportal.scheduling.selectors import (
    providers_for,
    schedule_settings_for,
    slots_for,
    types_for,
)
from clinicportal.scheduling.slots import Slot


@require_http_methods(["GET", "POST"])
@staff_required
@schedule_on
def appointment_new(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Choose the visit, who and the day; then one of that day's free times; booked at once."""
    actor = request.actor
    patient = patient_selectors.patient_get(actor=actor, public_id=patient_id)
    everyone = [p for p in schedule_providers(actor=actor) if p.active]
    day = timezone.localdate()
    find = FindTimeForm(
        request.GET or None,
        types=types_for(actor.practice, online_only=False),
        providers=everyone,
        initial={"day": day},
    )
    form = BookForm(request.POST or None)
    kind: AppointmentType | None = None
    seeing: list[Provider] = []
    if find.is_valid():
        kind = find.cleaned_data["type"]
        day = find.cleaned_data["day"] or day
        seeing = _who_sees(find, kind, everyone, actor.practice)
    if request.method == "POST":
        if kind is None:
            form.add_error(None, _("Please choose the visit first."))
        elif form.is_valid():
            provider_id, starts_at = form.cleaned_data["time"]
            to = next((p for p in seeing if p.public_id == provider_id), None)
            if to is None:
                form.add_error("time", NOT_A_TIME)
            else:
                try:
                    booked = services.appointment_create(
                        actor=actor,
                        patient=patient,
                        choice=services.Choice(kind, to, starts_at),
                        key=form.cleaned_data["key"],
                    )
                except services.SlotTaken as exc:
                    form.add_error("time", exc)
                except ValidationError as exc:
                    service_errors(form, exc, rename=TIME_FIELDS)
                else:
                    messages.success(
                        request,
                        _("Booked: %(patient)s, %(when)s with %(provider)s.")
                        % {
                            "patient": patient.full_name,
                            "when": when(booked),
                            "provider": booked.provider.name,
                        },
                    )
                    return redirect(reverse("office:appointment", args=[booked.public_id]))
    # Read after any post, so a time just taken is no longer offered.
    slots: list[Slot] = []
    if kind is not None and seeing:
        slots = slots_for(
            practice=actor.practice,
            kind=kind,
            providers=seeing,
            days=[day],
            earliest=timezone.now(),
            config=schedule_settings_for(actor.practice),
        )
    today = timezone.localdate()
    context = {
        "patient": patient,
        "find": find,
        "form": form,
        "kind": kind,
        "day": day,
        "slots": slot_rows(slots, seeing),
        "previous_url": _day_link(request, patient.public_id, day - datetime.timedelta(days=1)),
        "next_url": _day_link(request, patient.public_id, day + datetime.timedelta(days=1)),
        "show_previous": day > today,
        "past_day": day < today,
    }
    status = 400 if request.method == "POST" or find.errors else 200
    return render(request, "office/appointment_new.html", context, status=status)


def _who_sees(
    find: FindTimeForm, kind: AppointmentType, everyone: list[Provider], practice: Practice
) -> list[Provider]:
    """The providers whose times to offer: the one chosen, if they see ``kind``, or all who do."""
    seeing = providers_for(practice, kind)
    chosen = find.cleaned_data["provider"]
    if not chosen:
        return seeing
    picked = [p for p in seeing if str(p.public_id) == chosen]
    if not picked:
        name = next((p.name for p in everyone if str(p.public_id) == chosen), "")
        find.add_error(
            "provider",
            _("%(provider)s does not see patients for this visit.") % {"provider": name},
        )
    return picked


def _day_link(request: StaffRequest, patient_id: uuid.UUID, day: datetime.date) -> str:
    params = request.GET.dict()
    params["day"] = day.isoformat()
    return f"{reverse('office:appointment_new', args=[patient_id])}?{urlencode(params)}"
