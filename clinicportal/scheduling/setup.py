"""Admin → Schedule: how patients book online, providers and their weekly hours, days off, and
appointment types.

Admins only. Each service checks the whole of its input first and names every problem by the
field it concerns (``hours_<weekday>`` for a day of the week), so a page can show each one next
to its field; then it writes, with its audit row, in one transaction. Nothing here moves or
cancels an appointment: hours, days off and providers that stop taking appointments change what
is offered from now on, and booked appointments stay until the office moves or cancels them.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateformat import time_format
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.access import require_admin, require_in_practice
from clinicportal.core.context import StaffActor
from clinicportal.practices.models import Practice
from clinicportal.scheduling.models import (
    Appointment,
    AppointmentType,
    DayOff,
    Provider,
    ScheduleSettings,
    WorkingHours,
)
from clinicportal.scheduling.setup_selectors import practice_today
from clinicportal.scheduling.slots import Block

STEP_MINUTES = 5  # hours, lengths and the grid are in steps of 5 minutes
BLOCKS_PER_DAY = 6
TYPE_MINUTES = (5, 480)
SLOT_MINUTES = (5, 120)
INSTRUCTIONS_MAX = 2000
DAYS_OFF_AHEAD = 2 * 366  # how far ahead a day off may be set

# Admin → Schedule's numbers: (lowest, highest) for each setting.
SETTING_RANGES = {
    "cutoff_hours": (0, 720),
    "notice_hours": (0, 720),
    "horizon_days": (1, 365),
    "reminder_hours": (0, 336),
}


def _spaces(text: str) -> str:
    return " ".join(text.split())


def _clock(at: datetime.time) -> str:
    return time_format(at, "g:i A")


def _on_step(at: datetime.time) -> bool:
    return at.second == 0 and at.microsecond == 0 and at.minute % STEP_MINUTES == 0


# Settings ------------------------------------------------------------------------------------


def schedule_settings_save(
    *,
    actor: StaffActor,
    mode: str,
    cutoff_hours: int,
    notice_hours: int,
    horizon_days: int,
    reminder_hours: int,
    slot_minutes: int,
) -> ScheduleSettings:
    """Save how patients book online and the numbers that shape it (admins only)."""
    require_admin(actor)
    numbers = {
        "cutoff_hours": cutoff_hours,
        "notice_hours": notice_hours,
        "horizon_days": horizon_days,
        "reminder_hours": reminder_hours,
    }
    errors: dict[str, str] = {}
    if mode not in ScheduleSettings.Mode.values:
        errors["mode"] = _("Please choose how patients book online.")
    for name, value in numbers.items():
        low, high = SETTING_RANGES[name]
        if not low <= value <= high:
            errors[name] = _("Please enter a number from %(low)s to %(high)s.") % {
                "low": low,
                "high": high,
            }
    low, high = SLOT_MINUTES
    if not low <= slot_minutes <= high or slot_minutes % STEP_MINUTES:
        errors["slot_minutes"] = _(
            "Please choose a number of minutes from %(low)s to %(high)s, in steps of 5."
        ) % {"low": low, "high": high}
    in_range = "notice_hours" not in errors and "horizon_days" not in errors
    if in_range and notice_hours >= horizon_days * 24:
        errors["notice_hours"] = _(
            "Patients could book nothing: the earliest online booking is after the last "
            "day offered. Make it sooner, or offer times further ahead."
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        config, _created = ScheduleSettings.objects.update_or_create(
            practice=actor.practice,
            defaults={"mode": mode, "slot_minutes": slot_minutes, **numbers},
        )
        audit_record(actor=actor, action=AuditEvent.Action.SCHEDULE_SETTINGS_CHANGED, target=config)
    return config


# Providers and their hours -------------------------------------------------------------------


def _week_errors(hours: Sequence[Block]) -> dict[str, str]:
    """What is wrong with a week of blocks, by ``hours_<weekday>``: order, steps, overlaps."""
    by_day: dict[int, list[Block]] = defaultdict(list)
    for block in hours:
        if not 0 <= block.weekday <= 6:
            raise ValueError(f"No such weekday: {block.weekday}")
        by_day[block.weekday].append(block)
    problems = {f"hours_{day}": _day_problem(day, blocks) for day, blocks in by_day.items()}
    return {key: problem for key, problem in sorted(problems.items()) if problem}


def _day_problem(weekday: int, blocks: list[Block]) -> str:
    day = WEEKDAYS[weekday]
    for block in blocks:
        times = {"day": day, "starts": _clock(block.starts), "ends": _clock(block.ends)}
        if block.ends <= block.starts:
            return (
                _(
                    "On %(day)s, %(starts)s to %(ends)s ends before it starts. Please put the end "
                    "after the start."
                )
                % times
            )
        if not (_on_step(block.starts) and _on_step(block.ends)):
            return (
                _(
                    "On %(day)s, please use times on a 5-minute mark (for example 9:00 or 9:05), "
                    "not %(starts)s to %(ends)s."
                )
                % times
            )
    ordered = sorted(blocks, key=lambda b: b.starts)
    for first, then in pairwise(ordered):
        if then.starts < first.ends:
            return _(
                "On %(day)s, %(first)s and %(then)s overlap. A break is the time between two "
                "blocks: end the first before the next starts."
            ) % {
                "day": day,
                "first": f"{_clock(first.starts)}–{_clock(first.ends)}",
                "then": f"{_clock(then.starts)}–{_clock(then.ends)}",
            }
    if len(blocks) > BLOCKS_PER_DAY:
        return _("On %(day)s, please use at most %(count)s blocks.") % {
            "day": day,
            "count": BLOCKS_PER_DAY,
        }
    return ""


def _name_errors(
    practice: Practice,
    name: str,
    *,
    model: type[Provider] | type[AppointmentType],
    own_pk: int | None,
) -> dict[str, str]:
    limit = model._meta.get_field("name").max_length or 200
    if not name:
        if model is Provider:
            return {"name": _("Please give the provider’s name.")}
        return {"name": _("Please give the appointment type a name.")}
    if len(name) > limit:
        return {"name": _("Please keep the name to %(limit)s characters.") % {"limit": limit}}
    same = model.objects.filter(practice=practice, name__iexact=name)
    if own_pk is not None:
        same = same.exclude(pk=own_pk)
    if same.exists():
        if model is Provider:
            message = _(
                "There is already a provider called “%(name)s”. Add an initial or a title "
                "to tell them apart."
            )
        else:
            message = _("There is already an appointment type called “%(name)s”.")
        return {"name": message % {"name": name}}
    return {}


def _hours_key(hours: Sequence[Block]) -> list[tuple[int, datetime.time, datetime.time]]:
    return sorted((b.weekday, b.starts, b.ends) for b in hours)


def _hours_write(provider: Provider, hours: Sequence[Block]) -> None:
    WorkingHours.objects.filter(provider=provider).delete()
    WorkingHours.objects.bulk_create(
        WorkingHours(
            practice_id=provider.practice_id,
            provider=provider,
            weekday=weekday,
            starts=starts,
            ends=ends,
        )
        for weekday, starts, ends in _hours_key(hours)
    )


def provider_create(
    *, actor: StaffActor, name: str, active: bool = True, hours: Sequence[Block] = ()
) -> Provider:
    """Add a provider with their weekly hours (blocks in the practice's wall-clock time)."""
    require_admin(actor)
    name = _spaces(name)
    errors = _name_errors(actor.practice, name, model=Provider, own_pk=None) | _week_errors(hours)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        provider = Provider.objects.create(practice=actor.practice, name=name, active=active)
        _hours_write(provider, hours)
        audit_record(actor=actor, action=AuditEvent.Action.PROVIDER_ADDED, target=provider)
    return provider


def provider_update(
    *, actor: StaffActor, provider: Provider, name: str, active: bool, hours: Sequence[Block]
) -> Provider:
    """Rename a provider, say whether they take appointments, and set their weekly hours.

    Booked appointments stay as they are, also outside the new hours and when the provider
    stops taking appointments: only what is offered from now on changes.
    """
    require_admin(actor)
    require_in_practice(actor, provider)
    name = _spaces(name)
    errors = _name_errors(actor.practice, name, model=Provider, own_pk=provider.pk)
    errors |= _week_errors(hours)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Provider.objects.select_for_update().get(pk=provider.pk)
        before = _hours_key(
            [
                Block(h.weekday, h.starts, h.ends)
                for h in WorkingHours.objects.filter(provider=locked)
            ]
        )
        new_hours = before != _hours_key(hours)
        if locked.name == name and locked.active == active and not new_hours:
            return locked
        locked.name, locked.active = name, active
        locked.save(update_fields=["name", "active"])
        if new_hours:
            _hours_write(locked, hours)
        audit_record(actor=actor, action=AuditEvent.Action.PROVIDER_CHANGED, target=locked)
    return locked


@dataclass(frozen=True)
class ProviderRemoval:
    """What removing a provider did: deleted, or kept (with appointments) and taking none."""

    deleted: bool
    upcoming: int = 0  # live appointments still ahead, when kept
    withdrawn: list[str] = field(default_factory=list)  # types no longer offered, when deleted


def provider_remove(*, actor: StaffActor, provider: Provider) -> ProviderRemoval:
    """Remove a provider; one with appointments is kept, taking no new ones.

    Their appointments (past ones are the practice's history, future ones stay booked until the
    office moves or cancels them) keep the provider. One without appointments is deleted with
    their hours and days off; an appointment type that named no one else is no longer offered,
    since naming no provider would offer it with everyone.
    """
    require_admin(actor)
    require_in_practice(actor, provider)
    with transaction.atomic():
        # Bookings lock the provider too: none can arrive while this decides.
        locked = Provider.objects.select_for_update().get(pk=provider.pk)
        appointments = Appointment.objects.filter(provider=locked)
        if appointments.exists():
            upcoming = appointments.filter(
                status__in=Appointment.LIVE, starts_at__gte=timezone.now()
            ).count()
            if locked.active:
                locked.active = False
                locked.save(update_fields=["active"])
                audit_record(actor=actor, action=AuditEvent.Action.PROVIDER_CHANGED, target=locked)
            return ProviderRemoval(deleted=False, upcoming=upcoming)
        withdrawn: list[str] = []
        for kind in AppointmentType.objects.filter(providers=locked, active=True):
            if not kind.providers.exclude(pk=locked.pk).exists():
                kind.active = False
                kind.save(update_fields=["active"])
                audit_record(
                    actor=actor, action=AuditEvent.Action.APPOINTMENT_TYPE_CHANGED, target=kind
                )
                withdrawn.append(kind.name)
        audit_record(actor=actor, action=AuditEvent.Action.PROVIDER_REMOVED, target=locked)
        locked.delete()
    return ProviderRemoval(deleted=True, withdrawn=withdrawn)


# Days off ------------------------------------------------------------------------------------


def _day_off_label(day_off: DayOff) -> str:
    who = day_off.provider.name if day_off.provider else _("the whole practice")
    return f"{day_off.date.isoformat()}, {who}"


def day_off_add(
    *, actor: StaffActor, provider: Provider | None, date: datetime.date, reason: str = ""
) -> DayOff:
    """Give ``provider`` (None: the whole practice) a day off, today or later; once a date."""
    require_admin(actor)
    if provider is not None:
        require_in_practice(actor, provider)
    practice = actor.practice
    reason = _spaces(reason)
    today = practice_today(practice)
    errors: dict[str, str] = {}
    if date < today:
        errors["date"] = _("That day has passed. Please choose today or a later day.")
    elif date > today + datetime.timedelta(days=DAYS_OFF_AHEAD):
        errors["date"] = _("Please choose a day within the next two years.")
    limit = DayOff._meta.get_field("reason").max_length or 200
    if len(reason) > limit:
        errors["reason"] = _("Please keep the reason to %(limit)s characters.") % {"limit": limit}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # One at a time, so that two adds of one date meet here (the unique index does not
        # cover the whole practice's days, whose provider is NULL).
        Practice.objects.select_for_update().filter(pk=practice.pk).first()
        if DayOff.objects.filter(practice=practice, provider=provider, date=date).exists():
            day = date_format(date, "l, F j, Y")
            if provider is None:
                message = _("The practice is already closed on %(day)s.") % {"day": day}
            else:
                message = _("%(day)s is already a day off for %(name)s.") % {
                    "day": day,
                    "name": provider.name,
                }
            raise ValidationError({"date": message})
        day_off = DayOff.objects.create(
            practice=practice, provider=provider, date=date, reason=reason
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.DAY_OFF_ADDED,
            target=day_off,
            label=_day_off_label(day_off),
        )
    return day_off


def day_off_remove(*, actor: StaffActor, day_off: DayOff) -> None:
    """Remove a day off: its times are offered again. Twice is once."""
    require_admin(actor)
    require_in_practice(actor, day_off)
    with transaction.atomic():
        deleted, _rows = DayOff.objects.filter(pk=day_off.pk).delete()
        if deleted:
            audit_record(
                actor=actor,
                action=AuditEvent.Action.DAY_OFF_REMOVED,
                target=day_off,
                label=_day_off_label(day_off),
            )


# Appointment types ---------------------------------------------------------------------------


def _type_errors(
    actor: StaffActor,
    *,
    name: str,
    minutes: int,
    online: str,
    instructions: str,
    providers: Sequence[Provider],
    own_pk: int | None,
) -> dict[str, str]:
    for provider in providers:
        require_in_practice(actor, provider)
    errors = _name_errors(actor.practice, name, model=AppointmentType, own_pk=own_pk)
    low, high = TYPE_MINUTES
    if not low <= minutes <= high or minutes % STEP_MINUTES:
        errors["minutes"] = _(
            "Please enter a length from %(low)s to %(high)s minutes, in steps of 5 (for example "
            "30)."
        ) % {"low": low, "high": high}
    if online not in AppointmentType.Online.values:
        errors["online"] = _("Please choose who may book it.")
    if len(instructions) > INSTRUCTIONS_MAX:
        errors["instructions"] = _("Please keep the instructions to %(limit)s characters.") % {
            "limit": INSTRUCTIONS_MAX
        }
    return errors


def appointment_type_create(
    *,
    actor: StaffActor,
    name: str,
    minutes: int,
    online: str,
    instructions: str = "",
    providers: Sequence[Provider] = (),
    active: bool = True,
) -> AppointmentType:
    """Add a kind of visit. Naming no provider offers it with every provider."""
    require_admin(actor)
    name, instructions = _spaces(name), instructions.strip()
    errors = _type_errors(
        actor,
        name=name,
        minutes=minutes,
        online=online,
        instructions=instructions,
        providers=providers,
        own_pk=None,
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        kind = AppointmentType.objects.create(
            practice=actor.practice,
            name=name,
            minutes=minutes,
            online=online,
            instructions=instructions,
            active=active,
        )
        kind.providers.set(providers)
        audit_record(actor=actor, action=AuditEvent.Action.APPOINTMENT_TYPE_ADDED, target=kind)
    return kind


def appointment_type_update(
    *,
    actor: StaffActor,
    kind: AppointmentType,
    name: str,
    minutes: int,
    online: str,
    instructions: str,
    providers: Sequence[Provider],
    active: bool,
) -> AppointmentType:
    """Change a kind of visit. Booked appointments keep their times, whatever the new length."""
    require_admin(actor)
    require_in_practice(actor, kind)
    name, instructions = _spaces(name), instructions.strip()
    errors = _type_errors(
        actor,
        name=name,
        minutes=minutes,
        online=online,
        instructions=instructions,
        providers=providers,
        own_pk=kind.pk,
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = AppointmentType.objects.select_for_update().get(pk=kind.pk)
        named = {p.pk for p in providers}
        before = (locked.name, locked.minutes, locked.online, locked.instructions, locked.active)
        after = (name, minutes, online, instructions, active)
        same_providers = set(locked.providers.values_list("pk", flat=True)) == named
        if before == after and same_providers:
            return locked
        locked.name, locked.minutes, locked.online, locked.instructions, locked.active = after
        locked.save(update_fields=["name", "minutes", "online", "instructions", "active"])
        if not same_providers:
            locked.providers.set(providers)
        audit_record(actor=actor, action=AuditEvent.Action.APPOINTMENT_TYPE_CHANGED, target=locked)
    return locked
