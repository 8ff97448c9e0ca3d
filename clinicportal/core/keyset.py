"""Pages that cost the same at the end of a long list as at its start.

``counted_page`` counts and skips rows with OFFSET, which grows with the page number: the last
of 40 000 pages reads every row before it. A keyset page starts from the row it was asked to
follow (by two columns, ``created_at`` and ``id`` unless the list names others, both indexed
with the list's filters), so every page, first, last or between, is one query that reads at
most ``per_page + 1`` rows. Its links go to the first, previous, next and last pages; it has no
page numbers and no total.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import DateTimeField, Model, Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime

LAST = "last"

# The columns a list is kept in: a moment (or a day), then a whole number that breaks its ties.
type Keys = tuple[str, str]
CREATED: Keys = ("created_at", "id")


@dataclass(frozen=True)
class KeysetPage[M: Model]:
    rows: list[M]
    has_previous: bool
    has_next: bool
    keys: Keys = CREATED

    @property
    def previous_cursor(self) -> str:
        return "b" + _position(self.rows[0], self.keys) if self.rows else ""

    @property
    def next_cursor(self) -> str:
        return "a" + _position(self.rows[-1], self.keys) if self.rows else ""


def _position(row: Model, keys: Keys) -> str:
    when: datetime.date = getattr(row, keys[0])
    return f"{when.isoformat()}_{getattr(row, keys[1])}"


def _parse(cursor: str, *, moment: bool) -> tuple[str, datetime.date, int] | None:
    """The cursor's direction and position; ``moment``: its first column is a time, not a day."""
    direction, rest = cursor[:1], cursor[1:]
    at, _, pk = rest.rpartition("_")
    try:
        when = parse_datetime(at) if moment else parse_date(at)
        number = int(pk)
    except ValueError:
        return None
    if direction not in ("a", "b") or when is None:
        return None
    if isinstance(when, datetime.datetime):
        if when.tzinfo is None:
            return None
        try:
            when.astimezone(datetime.UTC)  # the database compares it in UTC
        except OverflowError:  # such as 9999-12-31T23:00-05:00, past the last day in UTC
            return None
    return direction, when, number


def _beyond(keys: Keys, at: datetime.date, pk: int, *, later: bool) -> Q:
    """Rows after (``later``) or before the position, written so an index on both serves it."""
    first, second = keys
    if later:
        return Q(**{f"{first}__gte": at}) & (Q(**{f"{first}__gt": at}) | Q(**{f"{second}__gt": pk}))
    return Q(**{f"{first}__lte": at}) & (Q(**{f"{first}__lt": at}) | Q(**{f"{second}__lt": pk}))


def keyset_page[M: Model](
    rows: QuerySet[M],
    *,
    per_page: int,
    cursor: str | None,
    descending: bool = False,
    keys: Keys = CREATED,
) -> KeysetPage[M]:
    """Return the page of ``rows`` (by the two columns of ``keys``) that ``cursor`` names.

    ``cursor`` is empty for the first page, ``"last"`` for the last, or a page's
    ``next_cursor`` or ``previous_cursor``. A cursor that makes no sense gives the first page.
    """
    first, second = keys
    forward = (first, second)
    backward = (f"-{first}", f"-{second}")
    order, reverse = (backward, forward) if descending else (forward, backward)
    moment = isinstance(rows.model._meta.get_field(first), DateTimeField)
    parsed = _parse(cursor, moment=moment) if cursor and cursor != LAST else None
    if cursor == LAST:
        found = _take(rows.order_by(*reverse), per_page)
        return KeysetPage(
            found[:per_page][::-1], has_previous=len(found) > per_page, has_next=False, keys=keys
        )
    if parsed is None:
        found = _take(rows.order_by(*order), per_page)
        return KeysetPage(
            found[:per_page], has_previous=False, has_next=len(found) > per_page, keys=keys
        )
    direction, at, pk = parsed
    if direction == "a":
        after = _beyond(keys, at, pk, later=not descending)
        found = _take(rows.filter(after).order_by(*order), per_page)
        return KeysetPage(
            found[:per_page], has_previous=True, has_next=len(found) > per_page, keys=keys
        )
    before = _beyond(keys, at, pk, later=descending)
    found = _take(rows.filter(before).order_by(*reverse), per_page)
    return KeysetPage(
        found[:per_page][::-1], has_previous=len(found) > per_page, has_next=True, keys=keys
    )


def _take(rows: QuerySet[Any], per_page: int) -> list[Any]:
    return list(rows[: per_page + 1])
