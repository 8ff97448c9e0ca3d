"""No GET changes anything: every route, as every role, leaves every table as it was.

The one exception is the audit trail of a viewing (a chart opened, a record downloaded): those
rows are the point of the request. Anything else a GET writes is a bug, since GETs are
repeated, prefetched and followed by crawlers. The walk goes over the whole URLconf, so a new
route is checked without anyone listing it here.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponseBase
from django.test import Client

from tests.conftest import login
from tests.walk import Owned, changes, own, portal_client, routes, snapshot, uncovered, url


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
