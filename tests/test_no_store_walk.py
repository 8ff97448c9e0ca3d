"""No signed-in page may be kept by a browser or a proxy: every one answers Cache-Control: no-store.

A page of health data must not come back from a shared computer's history, or be handed by a
cache to someone else. The walk goes over the whole URLconf, so a new page is checked without
anyone listing it here.
"""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from tests.conftest import login
from tests.test_get_walk import read
from tests.walk import Owned, own, portal_client, routes, url


def test_every_signed_in_page_answers_no_store(alice, bob):
    victim: Owned = own(alice, "Vera", "mary")
    roles: dict[str, tuple[str, Callable[[], Client]]] = {
        "office staff": ("office", lambda: login(Client(), bob)),
        "office admin": ("office", lambda: login(Client(), alice)),
        "portal patient": ("portal", lambda: portal_client(victim)),
    }
    stored: list[str] = []
    pages = 0
    for role, (namespace, make) in roles.items():
        client = make()
        for route in routes():
            if route.namespace != namespace:
                continue
            path = url(route, victim)
            response = client.get(path)
            read(response)
            if response.status_code != 200:
                continue
            pages += 1
            if "no-store" not in response.get("Cache-Control", ""):
                stored.append(f"GET {path} ({route.name}) as {role}")
    assert pages > 30, "the walk opened too few pages to mean anything"
    assert not stored, "Signed-in pages without Cache-Control: no-store:\n" + "\n".join(stored)
