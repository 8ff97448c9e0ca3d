"""The demo practice's SCHEDULE: two providers, four kinds of visit, and a few weeks of bookings.

Schedule is switched on in "book" mode, so a patient signed in to the demo books a free time at
once. Dr. Raman sees patients Monday to Friday with a lunch break, Dr. Ortega Monday to Thursday
mornings and Tuesday afternoons. The demo's generated patients fill part of the next three
weeks and the last two, and Jordan (the demo patient) has a visit booked next week and one
past. Made once: nothing happens if the practice has providers.
"""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from clinicportal.core.context import StaffActor
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice
from clinicportal.scheduling.models import (
    Appointment,
    AppointmentType,
    Provider,
    ScheduleSettings,
    WorkingHours,
)

HOURS = {
    "Dr. Priya Raman": {day: [(8, 0, 12, 0), (13, 0, 17, 0)] for day in range(5)},
    "Dr. Luis Ortega": {
        0: [(9, 0, 12, 30)],
        1: [(9, 0, 12, 30), (14, 0, 18, 0)],
        2: [(9, 0, 12, 30)],
        3: [(9, 0, 12, 30)],
    },
}
TYPES = [
    # name, minutes, online, instructions, providers (none: every provider)
    (
        "Comprehensive eye exam",
        45,
        AppointmentType.Online.PATIENTS,
        "Bring your glasses or contact lenses, and a list of your medicines. Your pupils may be "
        "dilated: bring sunglasses, and someone to drive you if you can.",
        [],
    ),
    (
        "Contact lens fitting",
        30,
        AppointmentType.Online.PATIENTS,
        "Wear your glasses, not your lenses, to the appointment.",
        ["Dr. Luis Ortega"],
    ),
    ("Glasses adjustment", 15, AppointmentType.Online.PATIENTS, "", []),
    ("Glaucoma follow-up", 30, AppointmentType.Online.OFFICE, "", ["Dr. Priya Raman"]),
]


def demo_schedule(*, admin: StaffActor) -> None:
    """Switch SCHEDULE on and fill it, once."""
    practice = admin.practice
    if Provider.objects.filter(practice=practice).exists():
        return
    with transaction.atomic():
        Practice.objects.filter(pk=practice.pk).update(schedule_enabled=True)
        practice.schedule_enabled = True
        ScheduleSettings.objects.update_or_create(
            practice=practice,
            defaults={"mode": ScheduleSettings.Mode.BOOK, "cutoff_hours": 24, "notice_hours": 2},
        )
        providers = {name: Provider.objects.create(practice=practice, name=name) for name in HOURS}
        for name, week in HOURS.items():
            for weekday, blocks in week.items():
                for h1, m1, h2, m2 in blocks:
                    WorkingHours.objects.create(
                        practice=practice,
                        provider=providers[name],
                        weekday=weekday,
                        starts=datetime.time(h1, m1),
                        ends=datetime.time(h2, m2),
                    )
        kinds = []
        for name, minutes, online, instructions, seen_by in TYPES:
            kind = AppointmentType.objects.create(
                practice=practice,
                name=name,
                minutes=minutes,
                online=online,
                instructions=instructions,
            )
            kind.providers.set([providers[p] for p in seen_by])
            kinds.append(kind)
        _bookings(admin, practice, providers, kinds)


def _bookings(
    admin: StaffActor,
    practice: Practice,
    providers: dict[str, Provider],
    kinds: list[AppointmentType],
) -> None:
    """About a third of the times of the last two weeks and the next three, and Jordan's two."""
    zone = practice.zone
    today = timezone.now().astimezone(zone).date()
    jordan = Patient.objects.get(practice=practice, first_name="Jordan", last_name="Rivera")
    patients = list(Patient.objects.filter(practice=practice).exclude(pk=jordan.pk)[:400])
    exam = kinds[0]
    chooser = random.Random(14)
    seen = {kind.pk: {p.pk for p in kind.providers.all()} for kind in kinds}
    taken: dict[int, list[tuple[datetime.datetime, datetime.datetime]]] = {}
    made = []

    def book(
        patient: Patient, provider: Provider, kind: AppointmentType, start: datetime.datetime
    ) -> bool:
        end = start + datetime.timedelta(minutes=kind.minutes)
        spans = taken.setdefault(provider.pk, [])
        if any(s < end and start < e for s, e in spans):
            return False
        spans.append((start, end))
        made.append(
            Appointment(
                practice=practice,
                patient=patient,
                provider=provider,
                type=kind,
                starts_at=start,
                ends_at=end,
                status=Appointment.Status.BOOKED,
                booked_by_user=admin.user,
            )
        )
        return True

    next_week = today + datetime.timedelta(days=7 - today.weekday() + 1)  # a Tuesday
    raman = providers["Dr. Priya Raman"]
    book(jordan, raman, exam, _at(next_week, 10, 0, zone))
    book(
        jordan, raman, exam, _at(today - datetime.timedelta(days=today.weekday() + 10), 9, 0, zone)
    )
    for offset in range(-14, 22):
        day = today + datetime.timedelta(days=offset)
        for name, provider in providers.items():
            for h1, m1, h2, m2 in HOURS[name].get(day.weekday(), []):
                minute = h1 * 60 + m1
                while minute + 45 <= h2 * 60 + m2:
                    if chooser.random() < 0.35 and patients:
                        kind = chooser.choice([k for k in kinds if _sees(seen, k, provider)])
                        start = _at(day, minute // 60, minute % 60, zone)
                        if start > timezone.now() or offset < 0:
                            book(chooser.choice(patients), provider, kind, start)
                    minute += 15 * chooser.randint(2, 4)
    Appointment.objects.bulk_create(made)


def _sees(seen: dict[int, set[int]], kind: AppointmentType, provider: Provider) -> bool:
    """Whether ``provider`` sees patients for ``kind`` (one it names none of: everyone)."""
    return not seen[kind.pk] or provider.pk in seen[kind.pk]


def _at(day: datetime.date, hour: int, minute: int, zone: datetime.tzinfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)
