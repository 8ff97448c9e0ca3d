"""Admin → Schedule → Appointment types: the kinds of visit, their length, who books them."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinicportal.core.forms import service_errors
from clinicportal.office.auth import StaffRequest, admin_required
from clinicportal.office.once import Sent, submit_once
from clinicportal.office.settings_schedule_forms import AppointmentTypeForm
from clinicportal.scheduling.models import AppointmentType
from clinicportal.scheduling.setup import appointment_type_create, appointment_type_update
from clinicportal.scheduling.setup_selectors import setup_providers, setup_type_get, setup_types


@require_GET
@admin_required
def types(request: StaffRequest) -> HttpResponse:
    return render(
        request, "office/settings_schedule_types.html", {"types": setup_types(actor=request.actor)}
    )


def _form(request: StaffRequest, kind: AppointmentType | None) -> AppointmentTypeForm:
    return AppointmentTypeForm(
        request.POST if request.method == "POST" else None,
        initial=AppointmentTypeForm.initial_for(kind),
        providers=setup_providers(actor=request.actor),
    )


def _page(
    request: StaffRequest, form: AppointmentTypeForm, kind: AppointmentType | None
) -> HttpResponse:
    status = 400 if form.errors else 200
    return render(
        request,
        "office/settings_schedule_type.html",
        {"form": form, "kind": kind},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@admin_required
def type_new(request: StaffRequest) -> HttpResponse:
    form = _form(request, None)

    def add() -> Sent:
        kind = appointment_type_create(actor=request.actor, **form.cleaned_data)
        return Sent(reverse("office:types"), _("%(name)s was added.") % {"name": kind.name})

    if request.method == "POST" and form.is_valid():
        try:
            return submit_once(request, actor=request.actor, write=add)
        except ValidationError as exc:
            service_errors(form, exc)
    return _page(request, form, None)


@require_http_methods(["GET", "POST"])
@admin_required
def type_edit(request: StaffRequest, type_id: uuid.UUID) -> HttpResponse:
    kind = setup_type_get(actor=request.actor, public_id=type_id)
    form = _form(request, kind)
    if request.method == "POST" and form.is_valid():
        try:
            saved = appointment_type_update(actor=request.actor, kind=kind, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": saved.name})
            return redirect("office:types")
    return _page(request, form, kind)
