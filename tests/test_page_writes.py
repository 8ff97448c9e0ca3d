"""Signed-in pages read; they do not write on every request (issue 10, section 3).

The idle stamp is written at most once a minute, and a page that changes nothing else does not
save the session. The time-out stays the server's and stays as strict.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinicportal.accounts.models import PortalSession
from clinicportal.office.auth import SEEN as OFFICE_SEEN
from clinicportal.portal import auth
from tests.conftest import NEW_PASSWORD, portal_login

WRITES = ("INSERT", "UPDATE", "DELETE", "SAVEPOINT")


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)
    ]


@pytest.mark.parametrize(
    "path", ["/p/clinic-x/records/", "/p/clinic-x/logs/", "/p/clinic-x/account/"]
)
def test_a_portal_page_within_a_minute_writes_nothing(ada_portal, clock, path):
    ada_portal.get(path)  # the first page after sign-in may stamp
    clock.now = ada_portal.session[auth.SEEN] + 59
    with CaptureQueriesContext(connection) as queries:
        response = ada_portal.get(path)
    assert response.status_code == 200
    assert writes(queries) == []
    assert "sessionid" not in response.cookies  # the session was not saved


def test_the_stamp_is_written_once_a_minute_and_the_office_sees_it(ada_portal, clock):
    ada_portal.get("/p/clinic-x/records/")
    seen = PortalSession.objects.get().last_seen_at
    clock.now += 61
    with CaptureQueriesContext(connection) as queries:
        ada_portal.get("/p/clinic-x/records/")
    assert any("accounts_portalsession" in sql for sql in writes(queries))
    assert any("django_session" in sql for sql in writes(queries))
    assert PortalSession.objects.get().last_seen_at > seen
    assert ada_portal.session[auth.SEEN] == int(clock.now)


def test_pages_a_minute_apart_keep_the_session_alive_past_the_idle_limit(ada_portal, clock):
    for _ in range(20):  # 20 minutes of use, longer than the practice's 15 minutes idle limit
        clock.now += 60
        assert ada_portal.get("/p/clinic-x/records/").status_code == 200


def test_the_idle_limit_counts_from_the_last_stamp(ada_portal, practice_x, clock):
    ada_portal.get("/p/clinic-x/records/")
    stamped = ada_portal.session[auth.SEEN]
    clock.now = stamped + 59  # not stamped: within the minute
    assert ada_portal.get("/p/clinic-x/records/").status_code == 200
    clock.now = stamped + practice_x.portal_idle_minutes * 60 + 1
    response = ada_portal.get("/p/clinic-x/records/")
    assert response["Location"].startswith("/p/clinic-x/login/")


@pytest.mark.parametrize("path", ["/office/patients/", "/office/account/"])
def test_an_office_page_within_a_minute_writes_nothing(bob_client, clock, path):
    bob_client.get(path)
    clock.now = bob_client.session[OFFICE_SEEN] + 59
    with CaptureQueriesContext(connection) as queries:
        response = bob_client.get(path)
    assert response.status_code == 200
    assert writes(queries) == []
    assert "sessionid" not in response.cookies  # the session was not saved


@pytest.mark.parametrize("path", ["/p/clinic-x/records/", "/p/clinic-x/logs/"])
def test_a_portal_page_takes_few_queries_whatever_the_history(ada_portal, practice_x, clock, path):
    ada_portal.get(path)
    with CaptureQueriesContext(connection) as few:
        ada_portal.get(path)
    for _ in range(5):
        portal_login(Client(), practice_x, "ada", NEW_PASSWORD)
    with CaptureQueriesContext(connection) as many:
        ada_portal.get(path)
    assert len(few) == len(many) <= 5, [q["sql"] for q in many.captured_queries]


def test_a_portal_sign_in_writes_its_session_once_and_reads_grants_once(ada_portal, practice_x):
    """One INSERT of the session with its data (then the response's save), one PortalSession."""
    with CaptureQueriesContext(connection) as queries:
        portal_login(Client(), practice_x, "ada", NEW_PASSWORD)
    sqls = [q["sql"] for q in queries.captured_queries]
    session_writes = [s for s in writes(queries) if "django_session" in s and "SAVEPOINT" not in s]
    assert len(session_writes) == 2, session_writes  # INSERT, then the response's UPDATE
    assert sum('FROM "accounts_portalgrant"' in s for s in sqls) == 1
    assert sum('INSERT INTO "accounts_portalsession"' in s for s in sqls) == 1
