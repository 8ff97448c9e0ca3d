"""Pages that cost the same at the end of a long list as at its start.

``counted_page`` counts and skips rows with OFFSET, which grows with the page number: the last
of 40 000 pages reads every row before it. A keyset page starts from the row it was asked to
follow (by ``created_at`` and ``id``, both indexed with the list's filters), so every page,
first, last or between, is one query that reads at most ``per_page + 1`` rows. Its links go
to the first, previous, next and last pages; it has no page numbers and no total.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime

LAST = "last"


@dataclass(frozen=True)
class KeysetPage[M: Model]:
    rows: list[M]
    has_previous: bool
    has_next: bool

    @property
    def previous_cursor(self) -> str:
        return "b" + _position(self.rows[0]) if self.rows else ""

    @property
    def next_cursor(self) -> str:
        return "a" + _position(self.rows[-1]) if self.rows else ""


def _position(row: Model) -> str:
    created_at: datetime.datetime = row.created_at  # type: ignore[attr-defined]
    return f"{created_at.isoformat()}_{row.pk}"


def _parse(cursor: str) -> tuple[str, datetime.datetime, int] | None:
    direction, rest = cursor[:1], cursor[1:]
    at, _, pk = rest.rpartition("_")
    try:
        when = parse_datetime(at)
        number = int(pk)
    except ValueError:
        return None
    if direction not in ("a", "b") or when is None or when.tzinfo is None:
        return None
    try:
        when.astimezone(datetime.UTC)  # the database compares it in UTC
    except OverflowError:  # such as 9999-12-31T23:00-05:00, past the last day in UTC
        return None
    return direction, when, number


def _beyond(at: datetime.datetime, pk: int, *, later: bool) -> Q:
    """Rows after (``later``) or before the position, written so an index on both serves it."""
    if later:
        return Q(created_at__gte=at) & (Q(created_at__gt=at) | Q(id__gt=pk))
    return Q(created_at__lte=at) & (Q(created_at__lt=at) | Q(id__lt=pk))


def keyset_page[M: Model](
    rows: QuerySet[M], *, per_page: int, cursor: str | None, descending: bool = False
) -> KeysetPage[M]:
    """Return the page of ``rows`` (by ``created_at``, then ``id``) that ``cursor`` names.

    ``cursor`` is empty for the first page, ``"last"`` for the last, or a page's
    ``next_cursor`` or ``previous_cursor``. A cursor that makes no sense gives the first page.
    """
    forward = ("created_at", "id")
    backward = ("-created_at", "-id")
    order, reverse = (backward, forward) if descending else (forward, backward)
    parsed = _parse(cursor) if cursor and cursor != LAST else None
    if cursor == LAST:
        found = _take(rows.order_by(*reverse), per_page)
        return KeysetPage(
            found[:per_page][::-1], has_previous=len(found) > per_page, has_next=False
        )
    if parsed is None:
        found = _take(rows.order_by(*order), per_page)
        return KeysetPage(found[:per_page], has_previous=False, has_next=len(found) > per_page)
    direction, at, pk = parsed
    if direction == "a":
        found = _take(rows.filter(_beyond(at, pk, later=not descending)).order_by(*order), per_page)
        return KeysetPage(found[:per_page], has_previous=True, has_next=len(found) > per_page)
    found = _take(rows.filter(_beyond(at, pk, later=descending)).order_by(*reverse), per_page)
    return KeysetPage(found[:per_page][::-1], has_previous=len(found) > per_page, has_next=True)


def _take(rows: QuerySet[Any], per_page: int) -> list[Any]:
    return list(rows[: per_page + 1])
