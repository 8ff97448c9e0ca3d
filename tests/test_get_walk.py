"""No GET changes anything: every route, as every role, leaves every table as it was.

The one exception is the audit trail of a viewing (a chart opened, a record downloaded): those
rows are the point of the request. Anything else a GET writes is a bug, since GETs are
repeated, prefetched and followed by crawlers. The walk goes over the whole URLconf, so a new
route is checked without anyone listing it here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.db.models import Model
from django.http import HttpResponseBase
from django.test import Client

from clinicportal.accounts.models import PortalSession
from clinicportal.audit.models import AuditEvent
from tests.conftest import login
from tests.walk import Owned, own, portal_client, routes, uncovered, url

Action = AuditEvent.Action

# The actions that record a viewing: the only rows a GET may add.
VIEWING = {
    Action.PATIENT_VIEWED,
    Action.CHART_FILE_VIEWED,
    Action.CHART_FILE_DOWNLOADED,
    Action.PORTAL_DOCUMENT_OFFICE_OPENED,
    Action.PORTAL_DOCUMENT_VIEWED,
    Action.PORTAL_DOCUMENT_DOWNLOADED,
    Action.OUTBOX_EMAIL_VIEWED,
}

# TODO(lead): drop this exclusion once portal GETs stop writing. Excluded today, and nothing
# else: every django_session row (the office's staff_required stamps session["office_seen_at"]
# and the portal's portal_required stamps session["portal.seen"] on every request, so each
# signed-in GET saves its session) and PortalSession.last_seen_at (portal_session_touch on
# every signed-in portal GET).
EXCLUDED_MODELS: set[type[Model]] = {Session}
EXCLUDED_FIELDS: dict[type[Model], set[str]] = {PortalSession: {"last_seen_at"}}  # columns

Snapshot = dict[str, dict[Any, dict[str, Any]]]


def snapshot() -> Snapshot:
    """Every row of every table (raw SQL, for speed), by model and primary key."""
    tables: Snapshot = {}
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            if meta.proxy or not meta.managed or model in EXCLUDED_MODELS:
                continue
            skip = EXCLUDED_FIELDS.get(model, set())
            table = connection.ops.quote_name(meta.db_table)  # a model's, not input
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
            columns = [c[0] for c in cursor.description]
            rows = (dict(zip(columns, row, strict=True)) for row in cursor.fetchall())
            tables[meta.label] = {
                row[meta.pk.column]: {k: v for k, v in row.items() if k not in skip} for row in rows
            }
    return tables


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """What changed between two snapshots, except audit rows of a viewing."""
    found: list[str] = []
    for label, rows in after.items():
        old = before[label]
        for pk, row in rows.items():
            if pk not in old:
                if label == AuditEvent._meta.label and row["action"] in VIEWING:
                    continue
                found.append(f"{label} row {pk} added: {row}")
            elif row != old[pk]:
                fields = sorted(k for k in row if row[k] != old[pk].get(k))
                found.append(f"{label} row {pk} changed: {', '.join(fields)}")
        found += [f"{label} row {pk} deleted" for pk in old.keys() - rows.keys()]
    return found


def read(response: HttpResponseBase) -> None:
    """Read the whole answer (a streamed one does its work as it is read), then close it.

    Closing sends request_finished, which would close the test's database connection: the
    test client keeps that handler off around its own requests, and so does this.
    """
    if response.streaming:
        for _ in response:
            pass
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def test_no_get_changes_anything_for_any_role(alice, bob):
    all_routes = routes()
    missing = uncovered(all_routes)
    assert not missing, "Routes with ids the walk cannot fill:\n" + "\n".join(missing)
    victim: Owned = own(alice, "Vera", "mary")
    roles: dict[str, Callable[[], Client]] = {
        "anonymous": Client,
        "office staff": lambda: login(Client(), bob),
        "office admin": lambda: login(Client(), alice),
        "portal patient": lambda: portal_client(victim),
        "portal guardian": lambda: portal_client(victim, username="mary"),
        "API key": lambda: Client(headers={"Authorization": f"Bearer {victim.key}"}),
    }
    failures: list[str] = []
    for role, make in roles.items():
        client = make()
        read(client.get("/office/"))  # warm-up: a first request may start what later ones use
        read(client.get(victim.practice.portal_path()))
        before = snapshot()
        for route in all_routes:
            path = url(route, victim)
            response = client.get(path)
            read(response)
            after = snapshot()
            failures += [
                f"GET {path} ({route.name}) as {role} [{response.status_code}]: {change}"
                for change in changes(before, after)
            ]
            before = after
    assert not failures, "GETs that wrote:\n" + "\n".join(failures)
