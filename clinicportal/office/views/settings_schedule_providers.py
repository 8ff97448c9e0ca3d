"""Admin → Schedule → Providers: who sees patients, their weekly hours and their days off."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicportal.core.forms import service_errors
from clinicportal.office.auth import StaffRequest, admin_required
from clinicportal.office.once import Sent, submit_once
from clinicportal.office.settings_schedule_forms import DayOffForm, ProviderForm
from clinicportal.office.views.settings_schedule import day_off_added_message, long_date
from clinicportal.scheduling.models import Provider
from clinicportal.scheduling.setup import (
    day_off_add,
    day_off_remove,
    provider_create,
    provider_remove,
    provider_update,
)
from clinicportal.scheduling.setup_selectors import (
    day_off_get,
    days_off_ahead,
    live_appointments_on,
    setup_provider_get,
    setup_providers,
    week_of,
)

DAYS_OFF = "#days-off"  # the provider page's section of days off


def _provider_url(provider: Provider) -> str:
    return reverse("office:provider", args=[provider.public_id])


@require_GET
@admin_required
def providers(request: StaffRequest) -> HttpResponse:
    rows = [(p, week_of(p)) for p in setup_providers(actor=request.actor)]
    return render(request, "office/settings_schedule_providers.html", {"rows": rows})


def _form_page(
    request: StaffRequest,
    form: ProviderForm,
    provider: Provider | None,
    *,
    day_off_form: DayOffForm | None = None,
) -> HttpResponse:
    day_off_form = day_off_form or DayOffForm()
    context = {
        "form": form,
        "provider": provider,
        "day_off_form": day_off_form,
        "days_off": days_off_ahead(actor=request.actor, provider=provider) if provider else [],
    }
    status = 400 if form.errors or day_off_form.errors else 200
    return render(request, "office/settings_schedule_provider.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def provider_new(request: StaffRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, ProviderForm.for_provider(None), None)
    rearranged = ProviderForm.rearranged(request.POST)
    if rearranged is not None:
        return _form_page(request, rearranged, None)
    form = ProviderForm.posted(request.POST)

    def add() -> Sent:
        provider = provider_create(
            actor=request.actor,
            name=form.cleaned_data["name"],
            active=form.cleaned_data["active"],
            hours=form.hours(),
        )
        return Sent(_provider_url(provider), _("%(name)s was added.") % {"name": provider.name})

    if form.is_valid():
        try:
            return submit_once(request, actor=request.actor, write=add)
        except ValidationError as exc:
            service_errors(form, exc, rename=form.service_rename())
    return _form_page(request, form, None)


@require_http_methods(["GET", "POST"])
@admin_required
def provider(request: StaffRequest, provider_id: uuid.UUID) -> HttpResponse:
    found = setup_provider_get(actor=request.actor, public_id=provider_id)
    if request.method != "POST":
        return _form_page(request, ProviderForm.for_provider(found), found)
    rearranged = ProviderForm.rearranged(request.POST)
    if rearranged is not None:
        return _form_page(request, rearranged, found)
    form = ProviderForm.posted(request.POST)
    if form.is_valid():
        try:
            saved = provider_update(
                actor=request.actor,
                provider=found,
                name=form.cleaned_data["name"],
                active=form.cleaned_data["active"],
                hours=form.hours(),
            )
        except ValidationError as exc:
            service_errors(form, exc, rename=form.service_rename())
        else:
            said = _("%(name)s was saved.") % {"name": saved.name}
            if found.active and not saved.active and found.upcoming:  # type: ignore[attr-defined]
                said += " " + _kept(saved, found.upcoming)  # type: ignore[attr-defined]
            messages.success(request, said)
            return redirect(_provider_url(saved))
    return _form_page(request, form, found)


def _kept(provider: Provider, upcoming: int) -> str:
    return ngettext(
        "%(name)s takes no new appointments; the %(count)s appointment booked ahead with "
        "them stays booked until the office moves or cancels it.",
        "%(name)s takes no new appointments; the %(count)s appointments booked ahead with "
        "them stay booked until the office moves or cancels them.",
        upcoming,
    ) % {"name": provider.name, "count": upcoming}


@require_http_methods(["GET", "POST"])
@admin_required
def provider_remove_view(request: StaffRequest, provider_id: uuid.UUID) -> HttpResponse:
    """Remove a provider: a GET says what will happen, a POST does it."""
    found = setup_provider_get(actor=request.actor, public_id=provider_id)
    if request.method != "POST":
        has_appointments = found.appointments.exists()
        return render(
            request,
            "office/settings_schedule_provider_remove.html",
            {"provider": found, "has_appointments": has_appointments},
        )
    done = provider_remove(actor=request.actor, provider=found)
    if done.deleted:
        said = _("%(name)s was removed.") % {"name": found.name}
        if done.withdrawn:
            said += " " + _(
                "No one else saw patients for %(types)s: choose providers for it and offer it "
                "again under Appointment types."
            ) % {"types": ", ".join(done.withdrawn)}
    elif done.upcoming:
        said = _kept(found, done.upcoming)
    else:
        said = _(
            "%(name)s is kept for the history of their past appointments, and takes no new ones."
        ) % {"name": found.name}
    messages.success(request, said)
    return redirect("office:providers")


@require_POST
@admin_required
def provider_day_off_add(request: StaffRequest, provider_id: uuid.UUID) -> HttpResponse:
    found = setup_provider_get(actor=request.actor, public_id=provider_id)
    form = DayOffForm(request.POST)

    def add() -> Sent:
        date = form.cleaned_data["date"]
        day_off_add(
            actor=request.actor, provider=found, date=date, reason=form.cleaned_data["reason"]
        )
        said = _("%(day)s is a day off for %(name)s.") % {
            "day": long_date(date),
            "name": found.name,
        }
        count = live_appointments_on(actor=request.actor, provider=found, date=date)
        return Sent(_provider_url(found) + DAYS_OFF, said + day_off_added_message(count))

    if form.is_valid():
        try:
            return submit_once(request, actor=request.actor, write=add)
        except ValidationError as exc:
            service_errors(form, exc)
    return _form_page(request, ProviderForm.for_provider(found), found, day_off_form=form)


@require_POST
@admin_required
def day_off_delete(
    request: StaffRequest, provider_id: uuid.UUID, day_off_id: uuid.UUID
) -> HttpResponse:
    found = setup_provider_get(actor=request.actor, public_id=provider_id)
    day_off = day_off_get(actor=request.actor, provider=found, public_id=day_off_id)
    day_off_remove(actor=request.actor, day_off=day_off)
    messages.success(
        request,
        _("%(day)s is no longer a day off for %(name)s.")
        % {"day": long_date(day_off.date), "name": found.name},
    )
    return redirect(_provider_url(found) + DAYS_OFF)
