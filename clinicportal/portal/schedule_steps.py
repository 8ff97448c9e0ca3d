"""Choosing a time, for a new appointment or a move: the steps after the kind of visit.

The provider (or any), a week of free times, and the confirmation: each a GET that carries what
was chosen before it in the query string (Picking.query), so that Back, Reload and a shared
link all work and nothing is kept on the server between the steps. The confirmation's post is
the views' (portal.schedule_views), and so are the services' answers.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from clinicportal.portal.auth import PortalRequest
from clinicportal.portal.schedule_forms import (
    ANY,
    BookForm,
    ProviderForm,
    TimeForm,
    at_parse,
    at_text,
)
from clinicportal.portal.schedule_times import by_day, week_from
from clinicportal.scheduling.models import Appointment, AppointmentType, Provider, ScheduleSettings
from clinicportal.scheduling.selectors import (
    change_deadline,
    earliest_online,
    last_online_day,
    providers_for,
    slots_for,
)
from clinicportal.scheduling.services import SlotTaken
from clinicportal.scheduling.slots import Slot

# Tells portal/base.html to mark SCHEDULE as where the patient is.
SECTION = "schedule"
TEMPLATE = "portal/schedule_book.html"


def page(
    request: PortalRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, template, {**context, "section": SECTION}, status=status)


@dataclass(frozen=True)
class Picking:
    """What the patient has chosen so far, booking a new appointment or moving ``moving``."""

    config: ScheduleSettings
    kind: AppointmentType
    providers: list[Provider]  # everyone who sees patients for ``kind``
    provider: Provider | None  # None: any of them
    moving: Appointment | None
    url: str  # of the steps: the booking's, or the move's

    def with_provider(self, provider: Provider | None) -> Picking:
        """The same choice, with ``provider`` (None: any), unless there is only one."""
        if len(self.providers) == 1:
            return self
        return replace(self, provider=provider)

    @property
    def offered(self) -> list[Provider]:
        return self.providers if self.provider is None else [self.provider]

    def query(self, **more: str) -> str:
        """The query string of a step, carrying what was chosen before it."""
        params = {} if self.moving else {"type": str(self.kind.public_id)}
        if len(self.providers) > 1:
            params["provider"] = ANY if self.provider is None else str(self.provider.public_id)
        return urlencode({**params, **more})


def picking_for(
    request: PortalRequest,
    config: ScheduleSettings,
    kind: AppointmentType,
    moving: Appointment | None,
) -> Picking:
    """The choice of a time for ``kind``: with any provider, or the only one there is."""
    providers = providers_for(request.practice, kind)
    if moving is None:
        url = reverse("portal:schedule_book", args=[request.practice.slug])
    else:
        url = reverse("portal:appointment_move", args=[request.practice.slug, moving.public_id])
    only = providers[0] if len(providers) == 1 else None
    return Picking(config, kind, providers, only, moving, url)


def choose(
    request: PortalRequest,
    config: ScheduleSettings,
    kind: AppointmentType,
    moving: Appointment | None,
) -> HttpResponse:
    """The steps after the kind of visit: the provider, then the times, then the confirmation."""
    picking = picking_for(request, config, kind, moving)
    if len(picking.providers) > 1:
        initial = {"provider": str(moving.provider.public_id)} if moving else None
        form = ProviderForm(
            request.GET if "provider" in request.GET else None,
            providers=picking.providers,
            initial=initial,
        )
        if not form.is_valid():
            context = step_context(picking, step="provider", provider_form=form)
            return page(request, TEMPLATE, context, 400 if form.errors else 200)
        picking = picking.with_provider(form.cleaned_data["provider"])
    if not picking.providers:
        return page(request, TEMPLATE, step_context(picking, step="provider"))
    if "at" in request.GET:
        return confirm_page(request, picking)
    return times_page(request, picking, week=request.GET.get("from"))


def step_context(picking: Picking, **more: Any) -> dict[str, Any]:
    return {
        "picking": picking,
        "kind": picking.kind,
        "moving": picking.moving,
        "requesting": picking.config.mode == ScheduleSettings.Mode.REQUEST,
        **more,
    }


def times_page(
    request: PortalRequest,
    picking: Picking,
    *,
    week: str | None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """A week of free times, each a button to its confirmation; links to the weeks around it."""
    practice, config = request.practice, picking.config
    shown = week_from(week, today=timezone.localdate(), last=last_online_day(practice, config))
    slots = slots_for(
        practice=practice,
        kind=picking.kind,
        providers=picking.offered,
        days=shown.days,
        earliest=earliest_online(config),
        config=config,
        ignoring=picking.moving,
    )
    if picking.moving is not None:
        slots = [slot for slot in slots if not _is_now(slot, picking.moving)]
    context = step_context(
        picking,
        step="times",
        week=shown,
        days=by_day(slots, practice.zone, each_time_once=picking.provider is None),
        week_param=shown.days[0].isoformat(),
        previous_url=f"?{picking.query(**{'from': shown.previous.isoformat()})}"
        if shown.previous
        else "",
        next_url=f"?{picking.query(**{'from': shown.next.isoformat()})}" if shown.next else "",
        error=error,
    )
    return page(request, TEMPLATE, context, status)


def _is_now(slot: Slot, appointment: Appointment) -> bool:
    """The time the appointment has now: no move to offer there."""
    return slot.starts_at == appointment.starts_at and slot.provider_id == appointment.provider_id


def _free(request: PortalRequest, picking: Picking, at: datetime.datetime) -> Slot | None:
    """The slot at ``at`` with the first provider free then, if the time is still offered."""
    config = picking.config
    day = at.astimezone(request.practice.zone).date()
    if not timezone.localdate() <= day <= last_online_day(request.practice, config):
        return None
    found = slots_for(
        practice=request.practice,
        kind=picking.kind,
        providers=picking.offered,
        days=[day],
        earliest=earliest_online(config),
        config=config,
        ignoring=picking.moving,
    )
    return next((slot for slot in found if slot.starts_at == at), None)


def day_of(request: PortalRequest, at: datetime.datetime) -> str:
    return at.astimezone(request.practice.zone).date().isoformat()


def confirm_page(request: PortalRequest, picking: Picking) -> HttpResponse:
    """What the chosen time would be, to confirm; fresh times if it is no longer free."""
    at = at_parse(request.GET["at"])
    if at is None:
        error = _("Please choose one of the times shown.")
        return times_page(request, picking, week=request.GET.get("from"), error=error, status=400)
    slot = _free(request, picking, at)
    if slot is None:
        error = SlotTaken().messages[0]
        return times_page(request, picking, week=day_of(request, at), error=error)
    provider = next(p for p in picking.providers if p.pk == slot.provider_id)
    initial = {"provider": provider.public_id, "at": at_text(at), "any": picking.provider is None}
    form: TimeForm
    if picking.moving is None:
        form = BookForm(initial={**initial, "type": picking.kind.public_id})
    else:
        form = TimeForm(initial=initial)
    return confirmation_page(request, picking, provider, at, form)


def confirmation_page(
    request: PortalRequest,
    picking: Picking,
    provider: Provider,
    at: datetime.datetime,
    form: forms.Form,
    status: int = 200,
) -> HttpResponse:
    context = step_context(
        picking,
        step="confirm",
        provider=provider,
        starts_at=at,
        ends_at=at + datetime.timedelta(minutes=picking.kind.minutes),
        form=form,
        back_url=f"?{picking.query(**{'from': day_of(request, at)})}",
        # Once booked, a time this close can no longer be changed online: say so before.
        past_cutoff=timezone.now() > change_deadline(at, picking.config),
        cutoff_hours=picking.config.cutoff_hours,
    )
    return page(request, TEMPLATE, context, status)


def errors_on_top(form: forms.Form, exc: ValidationError) -> None:
    """A service's refusal, shown above the confirmation (its fields are all hidden)."""
    for message in exc.messages:
        form.add_error(None, message)
