"""Benchmark: the free-time search for a month across 10 providers, with 50 000 appointments.

    .venv/bin/python bench/schedule.py [--rebuild] [--rounds N]
    .venv/bin/python bench/schedule.py --small      # a smoke run on a throwaway SQLite file

On PostgreSQL (BENCH_DATABASE_URL, created if missing; default `clinicportal_bench`), a practice
of its own ("bench-schedule") gets --providers providers, each seeing patients on weekdays
8:00–12:00 and 13:00–18:00 (18 half-hour times a day), and --appointments live half-hour
appointments spread at random (seeded) over those times from a year ago to two months ahead:
nine in ten times taken. Later runs reuse the data set while its sizes match, or --rebuild.

Measured, through ``scheduling.selectors.slots_for`` as the portal and the office call it:

- a month ahead, every provider ("any provider"), and one provider alone;
- the same search a year later, where no appointment is booked: its query count must equal
  the busy month's (the search reads hours, days off and the window's appointments, not the
  practice's history).

Goals: p95 < 50 ms for the month across every provider; one query count, busy or empty.
Writes bench/results/schedule.json (schedule_small.json with --small); exits 1 when a goal is
missed.
"""

from __future__ import annotations

import argparse
import datetime
import random
import sys
import time
from typing import Any

from common import bench_practice, report, run_sized
from messages import Timing, measure, verdict

GOAL_P95_MS = 50.0
SMALL = {"providers": 3, "appointments": 3_000, "rounds": 3}
SLUG = "bench-schedule"
BLOCKS = ((8, 12), (13, 18))


def data_set(providers: int, appointments: int, rebuild: bool) -> tuple[Any, Any, bool, float]:
    """(practice, appointment type, reused?, seconds to build)."""
    from django.db import transaction

    from clinicportal.patients.models import Patient
    from clinicportal.practices.models import Practice
    from clinicportal.scheduling.models import (
        Appointment,
        AppointmentType,
        Provider,
        ScheduleSettings,
        WorkingHours,
    )

    base = bench_practice()
    practice = Practice.objects.filter(slug=SLUG).first()
    if practice is not None and not rebuild:
        kind = AppointmentType.objects.filter(practice=practice).first()
        have = (
            Provider.objects.filter(practice=practice).count(),
            Appointment.objects.filter(practice=practice).count(),
        )
        if kind is not None and have == (providers, appointments):
            return practice, kind, True, 0.0
    started = time.perf_counter()
    with transaction.atomic():
        if practice is not None:
            Appointment.objects.filter(practice=practice).delete()
            AppointmentType.objects.filter(practice=practice).delete()
            WorkingHours.objects.filter(practice=practice).delete()
            Provider.objects.filter(practice=practice).delete()
            Patient.objects.filter(practice=practice).delete()
        else:
            practice = Practice.objects.create(
                name="Benchmark Schedule Eye Care", slug=SLUG, time_zone=base.time_zone
            )
        Practice.objects.filter(pk=practice.pk).update(schedule_enabled=True)
        ScheduleSettings.objects.update_or_create(
            practice=practice, defaults={"mode": "book", "slot_minutes": 30, "notice_hours": 0}
        )
        kind = AppointmentType.objects.create(practice=practice, name="Eye exam", minutes=30)
        made = Provider.objects.bulk_create(
            Provider(practice=practice, name=f"Dr. Bench {n:02d}") for n in range(providers)
        )
        WorkingHours.objects.bulk_create(
            WorkingHours(
                practice=practice,
                provider=provider,
                weekday=weekday,
                starts=datetime.time(start),
                ends=datetime.time(end),
            )
            for provider in made
            for weekday in range(5)
            for start, end in BLOCKS
        )
        patients = Patient.objects.bulk_create(
            Patient(
                practice=practice,
                first_name=f"Sched{n}",
                last_name="Bench",
                date_of_birth=datetime.date(1970, 1, 1) + datetime.timedelta(days=n),
            )
            for n in range(1_000)
        )
        times = _all_times(practice.zone, made)
        if appointments > len(times):
            raise SystemExit(f"only {len(times)} times exist for {appointments} appointments")
        chosen = random.Random(14).sample(times, appointments)
        random_patient = random.Random(15)
        Appointment.objects.bulk_create(
            (
                Appointment(
                    practice=practice,
                    patient=random_patient.choice(patients),
                    provider=provider,
                    type=kind,
                    starts_at=start,
                    ends_at=start + datetime.timedelta(minutes=30),
                    status="booked",
                )
                for provider, start in chosen
            ),
            batch_size=5_000,
        )
    return practice, kind, False, time.perf_counter() - started


def _all_times(zone: Any, providers: list[Any]) -> list[tuple[Any, datetime.datetime]]:
    today = datetime.datetime.now(zone).date()
    day, last = today - datetime.timedelta(days=365), today + datetime.timedelta(days=60)
    found = []
    while day <= last:
        if day.weekday() < 5:
            for start, end in BLOCKS:
                for half in range((end - start) * 2):
                    wall = datetime.datetime.combine(
                        day, datetime.time(start + half // 2, 30 * (half % 2)), tzinfo=zone
                    )
                    found += [(p, wall.astimezone(datetime.UTC)) for p in providers]
        day += datetime.timedelta(days=1)
    return found


def run(args: argparse.Namespace) -> int:
    from django.db import connection

    from clinicportal.scheduling.models import Appointment
    from clinicportal.scheduling.selectors import local_days, schedule_settings_for, slots_for

    practice, kind, reused, built = data_set(args.providers, args.appointments, args.rebuild)
    config = schedule_settings_for(practice)
    providers = list(practice_providers(practice))
    today = datetime.datetime.now(practice.zone).date()
    month = local_days(today + datetime.timedelta(days=1), 31)
    empty = local_days(today + datetime.timedelta(days=400), 31)
    now = datetime.datetime.now(datetime.UTC)

    def search(days: list[datetime.date], who: list[Any]) -> Any:
        def call() -> int:
            return len(
                slots_for(
                    practice=practice,
                    kind=kind,
                    providers=who,
                    days=days,
                    earliest=now,
                    config=config,
                )
            )

        return call

    busy_all = search(month, providers)
    measured: list[Timing] = [
        measure(f"month, all {len(providers)} providers", busy_all, args.rounds),
        measure("month, one provider", search(month, providers[:1]), args.rounds),
        measure("empty month, all providers", search(empty, providers), args.rounds),
    ]
    in_month = Appointment.objects.filter(
        practice=practice,
        starts_at__gte=datetime.datetime.combine(month[0], datetime.time.min, tzinfo=practice.zone),
        starts_at__lt=datetime.datetime.combine(month[-1], datetime.time.max, tzinfo=practice.zone),
    ).count()
    met_time = measured[0].p95 < GOAL_P95_MS
    met_queries = measured[0].queries == measured[2].queries
    result = {
        "database": connection.vendor,
        "data_set_reused": reused,
        "data_set_seconds": round(built, 2),
        "providers": len(providers),
        "appointments": Appointment.objects.filter(practice=practice).count(),
        "appointments_in_the_month": in_month,
        "free_times_in_the_month": busy_all(),
        "goal_p95_ms": GOAL_P95_MS,
        "timings": {t.name: t.result() for t in measured},
        "goal_p95_met": met_time,
        "query_count_constant": met_queries,
    }
    print(
        f"schedule: {result['appointments']} appointments, {len(providers)} providers, "
        f"{in_month} in the month searched"
    )
    for timing in measured:
        print(
            f"  {timing.name:<32} p50 {timing.p50:7.2f} ms  p95 {timing.p95:7.2f} ms  "
            f"{timing.queries} queries"
        )
    print(f"  p95 < {GOAL_P95_MS:.0f} ms: {verdict(met_time)}")
    print(f"  constant queries: {verdict(met_queries)}")
    report("schedule_small" if args.small else "schedule", result)
    return 0 if met_time and met_queries else 1


def practice_providers(practice: Any) -> Any:
    from clinicportal.scheduling.models import Provider

    return Provider.objects.filter(practice=practice, active=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--providers", type=int, default=10)
    parser.add_argument("--appointments", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=30, help="timed calls each")
    parser.add_argument("--rebuild", action="store_true", help="make the data set again")
    parser.add_argument(
        "--small", action="store_true", help="a smoke run: small sizes, a throwaway SQLite file"
    )
    args = parser.parse_args()
    return run_sized(parser, args, small=SMALL, prefix="bench-schedule-", run=run)


if __name__ == "__main__":
    sys.exit(main())
