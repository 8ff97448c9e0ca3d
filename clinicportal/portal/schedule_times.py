"""A week of free times as the portal shows them: the days, the way to the next week, by day.

Pure presentation of what scheduling.selectors.slots_for found: no query here.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from clinicportal.portal.schedule_forms import at_text
from clinicportal.scheduling.slots import Slot

WEEK = 7


@dataclass(frozen=True)
class Week:
    """The days shown, from ``days[0]``; the first days of the weeks before and after, if any."""

    days: list[datetime.date]
    previous: datetime.date | None
    next: datetime.date | None


def week_from(asked: str | None, *, today: datetime.date, last: datetime.date) -> Week:
    """The week starting on ``asked`` (YYYY-MM-DD), kept between ``today`` and ``last``.

    Anything else asked for (nothing, a typo, a day long past) is the week from ``today``.
    """
    try:
        start = datetime.date.fromisoformat(asked or "")
    except ValueError:
        start = today
    start = max(today, min(start, last))
    end = min(start + datetime.timedelta(days=WEEK - 1), last)
    days = [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]
    previous = max(today, start - datetime.timedelta(days=WEEK)) if start > today else None
    following = start + datetime.timedelta(days=WEEK)
    return Week(days=days, previous=previous, next=following if following <= last else None)


@dataclass(frozen=True)
class Time:
    """A free time to offer, and how it is named in the query string (``at``)."""

    starts_at: datetime.datetime
    at: str


@dataclass(frozen=True)
class Day:
    date: datetime.date
    times: list[Time]


def by_day(slots: list[Slot], zone: zoneinfo.ZoneInfo, *, each_time_once: bool) -> list[Day]:
    """``slots`` (sorted by time) grouped by the practice's day.

    With ``each_time_once`` (any provider), a time several providers have free is shown once,
    as the first of them: the one a booking of it goes to.
    """
    days: list[Day] = []
    seen: set[datetime.datetime] = set()
    for slot in slots:
        if each_time_once:
            if slot.starts_at in seen:
                continue
            seen.add(slot.starts_at)
        date = slot.starts_at.astimezone(zone).date()
        if not days or days[-1].date != date:
            days.append(Day(date, []))
        days[-1].times.append(Time(slot.starts_at, at_text(slot.starts_at)))
    return days
