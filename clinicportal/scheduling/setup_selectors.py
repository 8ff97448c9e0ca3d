"""Reads of Admin → Schedule: every provider and appointment type (offered or not), days off.

The booking selectors (selectors.py) read what patients may book; these read what the office
sets up, for staff of the practice only, and raise NotFound for anything else.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dates import WEEKDAYS

from clinicportal.core.access import NotFound
from clinicportal.core.context import StaffActor
from clinicportal.practices.models import Practice
from clinicportal.scheduling.models import (
    Appointment,
    AppointmentType,
    DayOff,
    Provider,
    WorkingHours,
)


def practice_today(practice: Practice) -> datetime.date:
    """Today on the practice's calendar."""
    return timezone.now().astimezone(practice.zone).date()


@dataclass(frozen=True)
class WeekDay:
    """One day of a provider's week, for the page: its number and its blocks in order."""

    weekday: int
    blocks: list[WorkingHours]

    @property
    def name(self) -> str:
        return str(WEEKDAYS[self.weekday])


def week_of(provider: Provider) -> list[WeekDay]:
    """The provider's days with hours, Monday first (from prefetched ``hours``)."""
    days: dict[int, list[WorkingHours]] = {}
    for block in provider.hours.all():
        days.setdefault(block.weekday, []).append(block)
    return [
        WeekDay(weekday, sorted(blocks, key=lambda b: b.starts))
        for weekday, blocks in sorted(days.items())
    ]


def _live_ahead() -> Q:
    return Q(appointments__status__in=Appointment.LIVE, appointments__starts_at__gte=timezone.now())


def setup_providers(*, actor: StaffActor) -> QuerySet[Provider]:
    """Every provider of the practice, with their hours and ``upcoming`` live appointments."""
    return (
        Provider.objects.filter(practice=actor.practice)
        .annotate(upcoming=Count("appointments", filter=_live_ahead()))
        .prefetch_related(Prefetch("hours", WorkingHours.objects.order_by("weekday", "starts")))
    )


def setup_provider_get(*, actor: StaffActor, public_id: uuid.UUID | str) -> Provider:
    """One provider of the practice (taking appointments or not), with ``upcoming``."""
    try:
        return setup_providers(actor=actor).get(public_id=public_id)
    except (Provider.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such provider.") from None


def setup_types(*, actor: StaffActor) -> QuerySet[AppointmentType]:
    """Every appointment type of the practice, offered or not, with its named providers."""
    return AppointmentType.objects.filter(practice=actor.practice).prefetch_related(
        Prefetch("providers", Provider.objects.order_by("name", "id"))
    )


def setup_type_get(*, actor: StaffActor, public_id: uuid.UUID | str) -> AppointmentType:
    try:
        return setup_types(actor=actor).get(public_id=public_id)
    except (AppointmentType.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such appointment type.") from None


def days_off_ahead(*, actor: StaffActor, provider: Provider | None) -> QuerySet[DayOff]:
    """The provider's days off from today on (or, for None, the whole practice's)."""
    found = DayOff.objects.filter(practice=actor.practice, date__gte=practice_today(actor.practice))
    if provider is None:
        return found.filter(provider__isnull=True)
    return found.filter(provider=provider)


def day_off_get(
    *, actor: StaffActor, provider: Provider | None, public_id: uuid.UUID | str
) -> DayOff:
    """A day off of ``provider`` (None: of the whole practice) in the actor's practice.

    ``public_id`` may come from a form field: anything that is not an id is not found either.
    """
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound("No such day off.") from None
    found = DayOff.objects.filter(practice=actor.practice, public_id=public_id)
    found = (
        found.filter(provider__isnull=True) if provider is None else found.filter(provider=provider)
    )
    try:
        return found.select_related("provider").get()
    except (DayOff.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such day off.") from None


def live_appointments_on(
    *, actor: StaffActor, provider: Provider | None, date: datetime.date
) -> int:
    """How many live appointments ``provider`` (None: anyone) has on the practice's ``date``."""
    zone = actor.practice.zone
    starts = datetime.datetime.combine(date, datetime.time.min, tzinfo=zone)
    ends = datetime.datetime.combine(
        date + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    found = Appointment.objects.filter(
        practice=actor.practice,
        status__in=Appointment.LIVE,
        starts_at__gte=starts,
        starts_at__lt=ends,
    )
    if provider is not None:
        found = found.filter(provider=provider)
    return found.count()


@dataclass(frozen=True)
class SetupSummary:
    """What patients could book today: providers taking appointments with hours, online types."""

    providers_ready: int
    types_online: int


def setup_summary(*, actor: StaffActor) -> SetupSummary:
    practice = actor.practice
    return SetupSummary(
        providers_ready=Provider.objects.filter(practice=practice, active=True, hours__isnull=False)
        .distinct()
        .count(),
        types_online=AppointmentType.objects.filter(
            practice=practice, active=True, online=AppointmentType.Online.PATIENTS
        ).count(),
    )
