"""Free times: a provider's weekly hours, less days off and live appointments.

Pure computation over what the selector read in a fixed number of queries, so the search costs
the same however many appointments the practice has. Hours are wall-clock times in the practice's
zone: each day's times are made in that zone and then turned into UTC, so a weekly 9:00 stays
9:00 when the clocks change, and a wall-clock time that does not exist that day (the hour the
clocks skip) is never offered.
"""

from __future__ import annotations

import bisect
import datetime
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

UTC = datetime.UTC


class Slot(NamedTuple):
    starts_at: datetime.datetime  # aware, UTC
    provider_id: int
    ends_at: datetime.datetime


@dataclass(frozen=True)
class Block:
    """One stretch of a provider's working week."""

    weekday: int  # Monday is 0
    starts: datetime.time
    ends: datetime.time


@dataclass
class Busy:
    """A provider's live appointments as sorted (start, end) pairs, for overlap tests."""

    starts: list[datetime.datetime]
    ends: list[datetime.datetime]

    @classmethod
    def of(cls, spans: Iterable[tuple[datetime.datetime, datetime.datetime]]) -> Busy:
        ordered = sorted(spans)
        return cls([s for s, _ in ordered], [e for _, e in ordered])

    def overlaps(self, start: datetime.datetime, end: datetime.datetime) -> bool:
        # Appointments never overlap one another, so their ends are sorted as their starts:
        # the first one ending after ``start`` is the only one that can overlap.
        i = bisect.bisect_right(self.ends, start)
        return i < len(self.starts) and self.starts[i] < end


def local_moment(
    day: datetime.date, at: datetime.time, zone: zoneinfo.ZoneInfo
) -> datetime.datetime | None:
    """``day`` at ``at`` on the practice's clocks, in UTC; None when the clocks skip it."""
    moment = datetime.datetime.combine(day, at, tzinfo=zone)
    utc = moment.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != moment.replace(tzinfo=None):
        return None
    return utc


def day_starts(
    day: datetime.date,
    blocks: tuple[Block, ...],
    minutes: int,
    step: int,
    zone: zoneinfo.ZoneInfo,
) -> list[datetime.datetime]:
    """The UTC starts ``blocks`` offer on ``day``: ``step`` apart from each block's start."""
    length, stride = datetime.timedelta(minutes=minutes), datetime.timedelta(minutes=step)
    midnight = datetime.datetime.combine(day, datetime.time.min)
    offset = zone.utcoffset(midnight) or datetime.timedelta(0)
    # On a day the clocks keep (all but two a year) every wall time is one fixed offset away.
    late = zone.utcoffset(midnight + datetime.timedelta(hours=23, minutes=59))
    steady = offset == (late or datetime.timedelta(0))
    found: list[datetime.datetime] = []
    for block in blocks:
        wall = datetime.datetime.combine(day, block.starts)
        last = datetime.datetime.combine(day, block.ends) - length
        while wall <= last:
            if steady:
                found.append((wall - offset).replace(tzinfo=UTC))
            elif (start := local_moment(day, wall.time(), zone)) is not None:
                found.append(start)
            wall += stride
    return found


def free_slots(
    *,
    zone: zoneinfo.ZoneInfo,
    days: Sequence[datetime.date],
    minutes: int,
    step: int,
    providers: Sequence[int],
    hours: Mapping[int, Sequence[Block]],
    days_off: set[tuple[int | None, datetime.date]],
    busy: Mapping[int, Busy],
    earliest: datetime.datetime,
) -> list[Slot]:
    """Every start, ``step`` minutes apart from each block's start, where ``minutes`` fit.

    A start is offered when the whole visit lies in one block, on a day neither the provider nor
    the practice is off, at or after ``earliest``, overlapping none of the provider's
    appointments. Sorted by time, then provider.
    """
    length = datetime.timedelta(minutes=minutes)
    found: list[Slot] = []
    none = Busy([], [])
    # Providers keeping the same hours share each day's starts: made once a day.
    made: dict[tuple[datetime.date, tuple[Block, ...]], list[datetime.datetime]] = {}
    for provider_id in providers:
        blocks = hours.get(provider_id, ())
        taken = busy.get(provider_id, none)
        for day in days:
            if (None, day) in days_off or (provider_id, day) in days_off:
                continue
            todays = tuple(b for b in blocks if b.weekday == day.weekday())
            if not todays:
                continue
            starts = made.get((day, todays))
            if starts is None:
                starts = made[(day, todays)] = day_starts(day, todays, minutes, step, zone)
            for start in starts:
                if start >= earliest:
                    end = start + length
                    if not taken.overlaps(start, end):
                        found.append(Slot(start, provider_id, end))
    found.sort()
    return found
