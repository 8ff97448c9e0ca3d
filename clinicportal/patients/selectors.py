"""Reads of patients and chart files, always scoped to the acting staff member's practice."""

from __future__ import annotations

import functools
import operator
import uuid
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import QuerySet
from django.http import Http404

from clinicportal.core.context import ApiActor, StaffActor
from clinicportal.patients.models import ChartFile, Patient
from clinicportal.patients.search import parse_query


@dataclass(frozen=True)
class SearchResults:
    """Search results in groups shown one after another: last-name matches, then first-name ones.

    Each group is a query set that an index walks in order, so a page costs the same whether a
    prefix matches ten patients or ten thousand. Groups never share a patient. What counting
    learnt of each group's size is kept, so that finding a later page's place costs no count.
    """

    groups: tuple[tuple[str, QuerySet[Patient]], ...]
    # Group index → (patients counted, whether that is all of them).
    _counted: dict[int, tuple[int, bool]] = field(default_factory=dict, compare=False, repr=False)

    def count_up_to(self, limit: int) -> int:
        """Return how many patients match, counting no further than ``limit``."""
        total = 0
        for index, (_, group) in enumerate(self.groups):
            if total >= limit:
                break
            wanted = limit - total
            counted = group.order_by()[:wanted].count()
            self._counted[index] = (counted, counted < wanted)
            total += counted
        return total

    def count(self) -> int:
        return sum(group.count() for _, group in self.groups)

    def __getitem__(self, window: slice) -> list[Patient]:
        start, stop = window.start or 0, window.stop
        rows: list[Patient] = []
        for index, (label, group) in enumerate(self.groups):
            if stop <= 0:
                break
            if start > 0:
                size = self._size_if_needed(index, group, stop)
                if size is not None and start >= size:
                    start, stop = start - size, stop - size
                    continue
            page = list(group[start:stop])
            for patient in page:
                patient.matched_on = label  # type: ignore[attr-defined]
            rows.extend(page)
            stop -= start + len(page)
            start = 0
        return rows

    def _size_if_needed(self, index: int, group: QuerySet[Patient], stop: int) -> int | None:
        """Return the group's size if it is under ``stop``, else None (it fills the window)."""
        counted, whole = self._counted.get(index, (0, False))
        if whole:
            return counted
        if counted >= stop:
            return None
        size = group.order_by()[:stop].count()
        return size if size < stop else None


# Up to this many matches of a phone or birth-date search are sorted by name in Python.
SORT_LIMIT = 5000


class SortedMatches:
    """Patients matching a filter that no index walks in name order: a birth date, a phone prefix.

    For such a filter in name order, PostgreSQL either walks the name index and filters, fast
    only when matches are dense, or finds the matches through the filter's own index and sorts
    them, fast only when they are few; it picks by estimates that prefix searches get wrong. At
    1 000 000 patients a phone search walked 14 000 rows for a page of 25 (35 ms) where sorting
    its 1 300 matches took 3 ms. So one query for each way of matching (``ways``: a filter and
    the index column it is read in order of) reads the id and name keys of up to SORT_LIMIT
    matches through that index; when that is all of them they are sorted here and a page is
    read by id. When more match, they are dense enough for the walk, of any way.
    """

    def __init__(self, patients: QuerySet[Patient], *ways: tuple[QuerySet[Patient], str]) -> None:
        self.patients = patients
        self.ways = ways
        # In name order: the filters of every way, either of them.
        self.matches = functools.reduce(operator.or_, (matches for matches, _order in ways))

    @cached_property
    def _keys(self) -> list[tuple[int, str, str]]:
        found: dict[int, tuple[int, str, str]] = {}
        for matches, index_order in self.ways:
            keys = matches.order_by(index_order).values_list(
                "pk", "last_name_key", "first_name_key"
            )
            found.update((key[0], key) for key in keys[: SORT_LIMIT + 1])
            if len(found) > SORT_LIMIT:
                break
        return list(found.values())

    @property
    def _few(self) -> bool:
        return len(self._keys) <= SORT_LIMIT

    def count_up_to(self, limit: int) -> int:
        """Return how many patients match, counting no further than ``limit``."""
        if self._few or limit <= len(self._keys):
            return min(len(self._keys), limit)
        return self.matches.order_by()[:limit].count()

    def __getitem__(self, window: slice) -> list[Patient]:
        if self._few:
            # Name order as the database's: keys compare code point by code point there too.
            ordered = sorted(self._keys, key=lambda key: (key[1], key[2], key[0]))
            ids = [pk for pk, _, _ in ordered[window]]
            # By id alone: with the filter too, PostgreSQL may scan the filter's index range.
            found = self.patients.order_by().in_bulk(ids)
            page = [found[pk] for pk in ids if pk in found]
        else:
            page = list(self.matches[window])
        for patient in page:
            patient.matched_on = ""  # type: ignore[attr-defined]
        return page


class EitherWayRound:
    """Patients matching two names either way round ("jo smith", "smith, jo"), in name order.

    Each way round is a range of the name index (its last-name prefix), read in name order;
    the two are merged here. As one query (this or that, in name order) PostgreSQL could walk
    the whole name index filtering for either: 1.5 s for "jo smith" at 1 000 000 patients,
    whose matches all sit under S. One query a way reads the ids and name keys of the first
    matches, as many as the page or the count needs, and the page is then read by id.
    """

    def __init__(self, patients: QuerySet[Patient], ways: tuple[QuerySet[Patient], ...]) -> None:
        self.patients = patients
        self.ways = ways  # each in name order
        self._keys: list[tuple[int, str, str]] = []
        self._read_up_to = 0

    def _first(self, limit: int) -> list[tuple[int, str, str]]:
        """Return the first ``limit`` matches' (id, last name key, first name key) in name order."""
        if limit > self._read_up_to:
            keys: dict[int, tuple[int, str, str]] = {}
            for way in self.ways:
                for key in way.values_list("pk", "last_name_key", "first_name_key")[:limit]:
                    keys[key[0]] = key
            self._keys = sorted(keys.values(), key=lambda key: (key[1], key[2], key[0]))
            self._read_up_to = limit
        return self._keys[:limit]

    def count_up_to(self, limit: int) -> int:
        """Return how many patients match, counting no further than ``limit``."""
        return len(self._first(limit))

    def __getitem__(self, window: slice) -> list[Patient]:
        start, stop = window.start or 0, window.stop
        ids = [pk for pk, _, _ in self._first(max(stop, self._read_up_to))[start:stop]]
        found = self.patients.order_by().in_bulk(ids)
        page = [found[pk] for pk in ids if pk in found]
        for patient in page:
            patient.matched_on = ""  # type: ignore[attr-defined]
        return page


PatientResults = SearchResults | SortedMatches | EitherWayRound


def patient_search(*, actor: StaffActor, text: str) -> PatientResults:
    """Return the practice's patients matching the search box text, in name order."""
    patients = Patient.objects.filter(practice=actor.practice)
    query = parse_query(text)
    if query.is_empty:
        return SearchResults((("", patients),))
    if len(query.names) == 1:
        (name,) = query.names
        by_last = patients.filter(last_name_key__startswith=name)
        by_first = (
            patients.filter(first_name_key__startswith=name)
            .exclude(last_name_key__startswith=name)
            .order_by("first_name_key", "last_name_key", "id")
        )
        return SearchResults((("", by_last), ("first name", by_first)))
    if query.date_of_birth is not None:
        born = patients.filter(date_of_birth=query.date_of_birth)
        return SortedMatches(patients, (born, "date_of_birth"))
    if query.phone_prefix:
        # From its start ("207 555") or its end, a number typed without its area code.
        digits = query.phone_prefix
        starts = patients.filter(phone_digits__startswith=digits)
        ends = patients.filter(phone_digits_reversed__startswith=digits[::-1])
        return SortedMatches(patients, (starts, "phone_digits"), (ends, "phone_digits_reversed"))
    first, second = query.names
    # "smith, jo" and "jo smith" both find Jo Smith.
    return EitherWayRound(
        patients,
        (
            patients.filter(last_name_key__startswith=first, first_name_key__startswith=second),
            patients.filter(last_name_key__startswith=second, first_name_key__startswith=first),
        ),
    )


def patient_get(*, actor: StaffActor | ApiActor, public_id: uuid.UUID) -> Patient:
    """Return the practice's patient with this id, or 404 (also when it is another practice's)."""
    try:
        return Patient.objects.get(practice=actor.practice, public_id=public_id)
    except Patient.DoesNotExist:
        raise Http404("No such patient.") from None


def chart_files_for_patient(*, actor: StaffActor, patient: Patient) -> QuerySet[ChartFile]:
    """Return the patient's chart files, newest document first."""
    return ChartFile.objects.filter(practice=actor.practice, patient=patient).select_related("blob")


def chart_file_get(*, actor: StaffActor, patient: Patient, public_id: uuid.UUID) -> ChartFile:
    """Return one of the patient's chart files, or 404."""
    try:
        return chart_files_for_patient(actor=actor, patient=patient).get(public_id=public_id)
    except ChartFile.DoesNotExist:
        raise Http404("No such file.") from None
