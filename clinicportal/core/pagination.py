"""Pagination that stays fast on large practices."""

from __future__ import annotations

from functools import cached_property
from typing import Any, Protocol

from django.core.paginator import Page as DjangoPage
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet, Window


class Countable(Protocol):
    def count_up_to(self, limit: int) -> int: ...

    def __getitem__(self, window: slice) -> Any: ...


class CappedPaginator:
    """Pages through results while counting at most ``cap`` of them.

    Counting every match of a broad search in 100 000 patients costs more than the page itself;
    past the cap the page says "more than N" and asks for a narrower search instead.
    """

    def __init__(self, results: Countable, per_page: int, cap: int = 1000) -> None:
        self.results = results
        self.per_page = per_page
        self.cap = cap

    @cached_property
    def _counted(self) -> int:
        return self.results.count_up_to(self.cap + 1)

    @property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def is_capped(self) -> bool:
        return self._counted > self.cap

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.per_page))

    def get_page(self, number: Any) -> Page:
        """Return page ``number``: the first for nonsense, the last for past-the-end."""
        try:
            wanted = int(number)
        except (TypeError, ValueError):
            wanted = 1
        wanted = min(max(wanted, 1), self.num_pages)
        bottom = (wanted - 1) * self.per_page
        return Page(list(self.results[bottom : bottom + self.per_page]), wanted, self)


class Page:
    def __init__(self, object_list: list[Any], number: int, paginator: CappedPaginator) -> None:
        self.object_list = object_list
        self.number = number
        self.paginator = paginator

    def has_previous(self) -> bool:
        return self.number > 1

    def has_next(self) -> bool:
        return self.number < self.paginator.num_pages

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1


# The annotation that carries the total on each row of a page read by counted_page().
_TOTAL = "page_total_rows"


def counted_page(queryset: QuerySet[Any], per_page: int, number: Any) -> DjangoPage:
    """Return Django's ``Paginator(queryset, per_page).get_page(number)``, usually in one query.

    The page's rows come with the number of all rows (``COUNT(*) OVER ()``), so the paginator
    needs no COUNT of its own. A page with no rows past the first (a number past the end) says
    nothing about the total; then the paginator counts as usual. ``object_list`` is a list.
    """
    paginator = Paginator(queryset, per_page)
    try:
        wanted = int(number)
    except (TypeError, ValueError):
        wanted = 1
    if wanted >= 1:
        bottom = (wanted - 1) * per_page
        rows = list(queryset.annotate(**{_TOTAL: Window(Count("pk"))})[bottom : bottom + per_page])
        if rows or wanted == 1:  # an empty first page: there are no rows at all
            # The paginator's count is a cached_property: give it its value.
            vars(paginator)["count"] = getattr(rows[0], _TOTAL) if rows else 0
            return DjangoPage(rows, wanted, paginator)
    page = paginator.get_page(number)
    return DjangoPage(list(page.object_list), page.number, paginator)
