"""counted_page: the page Django's paginator gives, with the count read alongside the rows."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicportal.audit.models import AuditEvent
from clinicportal.core.pagination import counted_page


@pytest.fixture
def events(practice_x):
    AuditEvent.objects.bulk_create(
        AuditEvent(practice=practice_x, action=AuditEvent.Action.PORTAL_LOGIN) for _ in range(12)
    )
    return AuditEvent.objects.filter(
        practice=practice_x, action=AuditEvent.Action.PORTAL_LOGIN
    ).order_by("id")


@pytest.mark.parametrize("number", [None, "", "x", "1", "2", "3", "4", "99", "0", "-1", "2.5"])
def test_the_same_page_as_django_paginator(events, number):
    mine = counted_page(events, 5, number)
    django = Paginator(events, 5).get_page(number)
    assert mine.number == django.number
    assert [e.pk for e in mine.object_list] == [e.pk for e in django.object_list]
    assert mine.paginator.count == django.paginator.count == 12
    assert mine.paginator.num_pages == django.paginator.num_pages


@pytest.mark.parametrize("number", ["1", "2", "3"])
def test_a_page_with_rows_is_one_query(events, number):
    with CaptureQueriesContext(connection) as queries:
        page = counted_page(events, 5, number)
        assert (page.paginator.count, page.paginator.num_pages) == (12, 3)
    assert len(queries) == 1


def test_an_empty_list_is_one_query(practice_x):
    with CaptureQueriesContext(connection) as queries:
        page = counted_page(AuditEvent.objects.filter(practice=practice_x, pk=0), 5, "1")
        assert page.object_list == [] and page.paginator.count == 0
        assert page.paginator.num_pages == 1
    assert len(queries) == 1
