"""The office's reads of the schedule: the day and week calendar, an appointment and its history.

A calendar costs the same few queries however many appointments it holds: the providers, their
weekly hours, the days off and the appointments of the window, each read once. Times are made in
the practice's zone from the providers' wall-clock hours, as the free-time search makes them.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from clinicportal.audit.models import AuditEvent
from clinicportal.core.access import NotFound
from clinicportal.core.context import StaffActor
from clinicportal.patients.models import Patient
from clinicportal.scheduling.models import Appointment, DayOff, Provider, WorkingHours

Span = tuple[datetime.datetime, datetime.datetime]

APPOINTMENT_ACTIONS = (
    AuditEvent.Action.APPOINTMENT_BOOKED,
    AuditEvent.Action.APPOINTMENT_REQUESTED,
    AuditEvent.Action.APPOINTMENT_CONFIRMED,
    AuditEvent.Action.APPOINTMENT_MOVED,
    AuditEvent.Action.APPOINTMENT_CANCELLED,
)


@dataclass(frozen=True)
class Entry:
    """One line of a provider's day: an appointment, a free stretch of hours, or a break."""

    starts_at: datetime.datetime
    ends_at: datetime.datetime
    appointment: Appointment | None = None
    free: bool = False  # in the provider's hours, no live appointment
    gap: bool = False  # between two blocks of hours (lunch)

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@dataclass
class ProviderDay:
    """A provider's day on the calendar: hours, whether off, and the appointments."""

    provider: Provider
    day: datetime.date
    hours: list[Span] = field(default_factory=list)
    off: bool = False  # a day off, the provider's own or the whole practice's
    off_reason: str = ""
    appointments: list[Appointment] = field(default_factory=list)

    @property
    def working(self) -> bool:
        return bool(self.hours) and not self.off

    @property
    def live_count(self) -> int:
        return sum(1 for a in self.appointments if a.is_live)

    def appointment_entries(self) -> list[Entry]:
        return [Entry(a.starts_at, a.ends_at, appointment=a) for a in self.appointments]

    def entries(self) -> list[Entry]:
        """The day in order: appointments, and the free stretches and breaks of its hours.

        A cancelled appointment is listed where it was, and leaves its time free.
        """
        found = self.appointment_entries()
        if self.working:
            busy = sorted((a.starts_at, a.ends_at) for a in self.appointments if a.is_live)
            for index, (start, end) in enumerate(self.hours):
                if index:
                    found.append(Entry(self.hours[index - 1][1], start, gap=True))
                found += [Entry(s, e, free=True) for s, e in _uncovered(start, end, busy)]
        # At one time: the appointment first, then whatever stretch begins there.
        found.sort(key=lambda e: (e.starts_at, e.appointment is None, e.ends_at))
        return found


@dataclass(frozen=True)
class Calendar:
    days: list[datetime.date]
    providers: list[Provider]
    columns: dict[tuple[int, datetime.date], ProviderDay]

    def of(self, provider: Provider) -> list[ProviderDay]:
        return [self.columns[(provider.pk, day)] for day in self.days]

    def on(self, day: datetime.date) -> list[ProviderDay]:
        return [self.columns[(provider.pk, day)] for provider in self.providers]


def _uncovered(start: datetime.datetime, end: datetime.datetime, busy: list[Span]) -> list[Span]:
    """The parts of [start, end) that no span of ``busy`` (sorted) covers."""
    free: list[Span] = []
    at = start
    for busy_start, busy_end in busy:
        if busy_end <= at or busy_start >= end:
            continue
        if busy_start > at:
            free.append((at, busy_start))
        at = max(at, busy_end)
    if at < end:
        free.append((at, end))
    return free


def schedule_providers(*, actor: StaffActor) -> list[Provider]:
    """Every provider of the practice, those taking appointments first (for the choices)."""
    return sorted(
        Provider.objects.filter(practice=actor.practice), key=lambda p: (not p.active, p.name)
    )


def calendar_for(
    *,
    actor: StaffActor,
    days: list[datetime.date],
    providers: list[Provider],
    only: Provider | None = None,
) -> Calendar:
    """The practice's calendar for ``days`` (consecutive), by provider: three queries.

    A column for each active provider of ``providers`` (the practice's, read by the caller),
    and for an inactive one with appointments in the window; or for ``only``. Appointments of
    every status are listed, soonest first.
    """
    practice = actor.practice
    zone = practice.zone
    window_start = datetime.datetime.combine(days[0], datetime.time.min, tzinfo=zone)
    window_end = datetime.datetime.combine(
        days[-1] + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    appointments = Appointment.objects.filter(
        practice=practice, starts_at__lt=window_end, ends_at__gt=window_start
    ).select_related("patient", "type")
    if only is not None:
        appointments = appointments.filter(provider=only)
    shown = [only] if only is not None else [p for p in providers if p.active]
    listed = list(appointments.order_by("starts_at", "id"))
    known = {p.pk for p in shown}
    everyone = {p.pk: p for p in providers}
    for appointment in listed:
        if appointment.provider_id not in known and appointment.provider_id in everyone:
            known.add(appointment.provider_id)
            shown.append(everyone[appointment.provider_id])
    providers = sorted(shown, key=lambda p: (p.name, p.pk))
    ids = [p.pk for p in providers]

    columns = {(p.pk, day): ProviderDay(provider=p, day=day) for p in providers for day in days}
    blocks: dict[int, list[WorkingHours]] = defaultdict(list)
    for block in WorkingHours.objects.filter(practice=practice, provider_id__in=ids):
        blocks[block.provider_id].append(block)
    for p in providers:
        for day in days:
            column = columns[(p.pk, day)]
            column.hours = [
                (
                    datetime.datetime.combine(day, b.starts, tzinfo=zone),
                    datetime.datetime.combine(day, b.ends, tzinfo=zone),
                )
                for b in sorted(blocks[p.pk], key=lambda b: b.starts)
                if b.weekday == day.weekday()
            ]
    days_off = DayOff.objects.filter(
        Q(provider_id__in=ids) | Q(provider__isnull=True),
        practice=practice,
        date__gte=days[0],
        date__lte=days[-1],
    )
    for off in days_off:
        for p in providers:
            if off.provider_id in (None, p.pk):
                _mark_off(columns[(p.pk, off.date)], off)
    for appointment in listed:
        local_day = appointment.starts_at.astimezone(zone).date()
        home = columns.get((appointment.provider_id, local_day))
        if home is not None:
            appointment.provider = home.provider
            home.appointments.append(appointment)
    return Calendar(days=days, providers=providers, columns=columns)


def _mark_off(column: ProviderDay, off: DayOff) -> None:
    column.off = True
    column.off_reason = column.off_reason or off.reason


# One appointment --------------------------------------------------------------------------------


def office_appointment(*, actor: StaffActor, public_id: uuid.UUID | str) -> Appointment:
    """One of the practice's appointments, with its patient, type, provider and who booked it."""
    try:
        return Appointment.objects.select_related(
            "patient",
            "type",
            "provider",
            "booked_by_account",
            "booked_by_user__staff_member",
        ).get(practice=actor.practice, public_id=uuid.UUID(str(public_id)))
    except (Appointment.DoesNotExist, ValueError):
        raise NotFound("No such appointment.") from None


def appointment_history(*, actor: StaffActor, appointment: Appointment) -> list[AuditEvent]:
    """What happened to the appointment, oldest first, from the audit trail: one query."""
    if appointment.practice_id != actor.practice.pk:
        raise NotFound("No such appointment.")
    return list(
        AuditEvent.objects.filter(
            practice=actor.practice,
            patient_id=appointment.patient_id,
            object_id=str(appointment.public_id),
            action__in=APPOINTMENT_ACTIONS,
        ).order_by("at", "id")
    )


def office_patient_appointments(
    *, actor: StaffActor, patient: Patient, since: datetime.datetime
) -> QuerySet[Appointment]:
    """The patient's live appointments from ``since`` on, soonest first (the patient page)."""
    return Appointment.objects.filter(
        practice=actor.practice,
        patient=patient,
        status__in=Appointment.LIVE,
        ends_at__gt=since,
    ).select_related("type", "provider")
