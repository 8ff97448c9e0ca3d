"""Reads of the schedule: settings, what may be booked, free times, and appointments."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict

from django.db.models import Q, QuerySet
from django.utils import timezone

from clinicportal.core.access import NotFound, portal_patient
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.practices.models import Practice
from clinicportal.scheduling.models import (
    LONGEST_MINUTES,
    Appointment,
    AppointmentType,
    DayOff,
    Provider,
    ScheduleSettings,
    WorkingHours,
)
from clinicportal.scheduling.slots import Block, Busy, Slot, free_slots

LONGEST = datetime.timedelta(minutes=LONGEST_MINUTES)


def schedule_settings_for(practice: Practice) -> ScheduleSettings:
    """The practice's settings, or the defaults (mode off, unsaved) when it has none."""
    found = ScheduleSettings.objects.filter(practice=practice).first()
    return found or ScheduleSettings(practice=practice)


def online_booking_open(practice: Practice) -> bool:
    """SCHEDULE is on and patients may book or request online."""
    return practice.schedule_enabled and schedule_settings_for(practice).online


def types_for(practice: Practice, *, online_only: bool) -> QuerySet[AppointmentType]:
    found = AppointmentType.objects.filter(practice=practice, active=True)
    if online_only:
        found = found.filter(online=AppointmentType.Online.PATIENTS)
    return found


def type_get(
    practice: Practice, public_id: uuid.UUID | str, *, online_only: bool
) -> AppointmentType:
    try:
        return types_for(practice, online_only=online_only).get(public_id=public_id)
    except (AppointmentType.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such appointment type.") from None


def providers_for(practice: Practice, kind: AppointmentType) -> list[Provider]:
    """The active providers who see patients for ``kind`` (all of them if it names none)."""
    named = kind.providers.all()
    if named.exists():
        return list(named.filter(active=True))
    return list(Provider.objects.filter(practice=practice, active=True))


def provider_get(practice: Practice, public_id: uuid.UUID | str) -> Provider:
    try:
        return Provider.objects.get(practice=practice, public_id=public_id)
    except (Provider.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such provider.") from None


def local_days(start: datetime.date, count: int) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range(count)]


def hours_and_days_off(
    practice: Practice, ids: list[int], days: list[datetime.date]
) -> tuple[dict[int, list[Block]], set[tuple[int | None, datetime.date]]]:
    """The providers' weekly blocks, and who is off on which of ``days``: two queries."""
    hours: dict[int, list[Block]] = defaultdict(list)
    for provider_id, weekday, starts, ends in WorkingHours.objects.filter(
        practice=practice, provider_id__in=ids
    ).values_list("provider_id", "weekday", "starts", "ends"):
        hours[provider_id].append(Block(weekday, starts, ends))
    days_off: set[tuple[int | None, datetime.date]] = set(
        DayOff.objects.filter(
            Q(provider_id__in=ids) | Q(provider__isnull=True),
            practice=practice,
            date__gte=days[0],
            date__lte=days[-1],
        ).values_list("provider_id", "date")
    )
    return hours, days_off


def slots_for(
    *,
    practice: Practice,
    kind: AppointmentType,
    providers: list[Provider],
    days: list[datetime.date],
    earliest: datetime.datetime,
    config: ScheduleSettings,
    ignoring: Appointment | None = None,
    bookings: bool = True,
) -> list[Slot]:
    """The free times of ``kind`` with any of ``providers`` on the practice's ``days``.

    Three queries whatever the number of appointments: hours, days off, and the live
    appointments in the window (``ignoring`` one being moved; none at all without
    ``bookings``, for the times the schedule offers whoever has booked them).
    """
    if not providers or not days:
        return []
    ids = [p.pk for p in providers]
    zone = practice.zone
    hours, days_off = hours_and_days_off(practice, ids, days)
    spans: dict[int, list[tuple[datetime.datetime, datetime.datetime]]] = defaultdict(list)
    if bookings:
        window_start = datetime.datetime.combine(days[0], datetime.time.min, tzinfo=zone)
        window_end = datetime.datetime.combine(
            days[-1] + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
        )
        live = Appointment.objects.filter(
            provider_id__in=ids,
            status__in=Appointment.LIVE,
            # No visit is longer than LONGEST: a bound on the start lets the index skip the
            # provider's whole history before the window.
            starts_at__gt=window_start - LONGEST,
            starts_at__lt=window_end,
            ends_at__gt=window_start,
        )
        if ignoring is not None:
            live = live.exclude(pk=ignoring.pk)
        for provider_id, starts_at, ends_at in live.values_list(
            "provider_id", "starts_at", "ends_at"
        ):
            spans[provider_id].append((starts_at, ends_at))
    return free_slots(
        zone=zone,
        days=days,
        minutes=kind.minutes,
        step=config.slot_minutes,
        providers=ids,
        hours=hours,
        days_off=days_off,
        busy={provider_id: Busy.of(found) for provider_id, found in spans.items()},
        earliest=earliest,
    )


def earliest_online(
    config: ScheduleSettings, now: datetime.datetime | None = None
) -> datetime.datetime:
    return (now or timezone.now()) + datetime.timedelta(hours=config.notice_hours)


def last_online_day(practice: Practice, config: ScheduleSettings) -> datetime.date:
    today = timezone.now().astimezone(practice.zone).date()
    return today + datetime.timedelta(days=config.horizon_days)


# Appointments --------------------------------------------------------------------------------


def appointments_for_patient(*, actor: PortalActor) -> QuerySet[Appointment]:
    """The patient's appointments (any status), soonest first, with their type and provider."""
    return Appointment.objects.filter(
        practice=actor.practice, patient=portal_patient(actor)
    ).select_related("type", "provider")


def appointment_get(*, actor: PortalActor | StaffActor, public_id: uuid.UUID | str) -> Appointment:
    """One appointment the actor may see: its practice's, and for the portal, its patient's."""
    found = Appointment.objects.filter(practice=actor.practice, public_id=public_id)
    if isinstance(actor, PortalActor):
        found = found.filter(patient=portal_patient(actor))
    try:
        return found.select_related("type", "provider", "patient").get()
    except (Appointment.DoesNotExist, ValueError):
        raise NotFound("No such appointment.") from None


def change_deadline(starts_at: datetime.datetime, config: ScheduleSettings) -> datetime.datetime:
    """The last moment the patient may cancel or move online an appointment that starts at
    ``starts_at`` (the cut-off)."""
    return starts_at - datetime.timedelta(hours=config.cutoff_hours)
