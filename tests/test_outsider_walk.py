"""Every route that names an object answers an outsider exactly as it answers an unknown id.

And writes nothing for them: not a row, not an audit event.

The walk goes over the whole URLconf, so a new route with an id is checked without anyone
listing it here; a route whose parameter cannot be filled with a real object fails the walk
(add the parameter to OBJECTS in tests/walk.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db.models import Model
from django.http import HttpResponseBase
from django.test import Client

from clinicportal.accounts.models import ApiKey
from clinicportal.practices.models import StaffMember
from tests.conftest import login
from tests.walk import (
    OBJECTS,
    Owned,
    Route,
    changes,
    own,
    portal_client,
    routes,
    snapshot,
    uncovered,
    unknown_value,
    url,
)


@pytest.fixture
def yvonne(practice_y) -> StaffMember:
    """Admin of practice Y: an outsider to X who passes every admin check."""
    return StaffMember.objects.select_related("user").get(user__username="yvonne")


@dataclass(frozen=True)
class Outsider:
    name: str
    namespace: str  # the routes they try
    client: Client
    own: Owned  # their own objects, and the door they come through
    bearer_only: bool = False  # tries only routes whose id is itself the credential


def bearer(route: Route) -> bool:
    """A route whose id is the credential (a password link): whoever holds it may use it."""
    return any(OBJECTS.get(f"{route.namespace}:{p}") == "token" for p in route.params)


def answer(response: HttpResponseBase, hide: list[str]) -> tuple[object, ...]:
    """What an outsider learns from a response, with the ids in the request left out."""

    def scrub(text: str) -> str:
        for value in hide:
            text = text.replace(value, "<id>")
        return text

    body = ""
    if response.status_code >= 400 or response.get("Content-Type", "").startswith(
        "application/json"
    ):
        body = scrub(b"".join(response).decode())
    return response.status_code, scrub(response.get("Location", "")), body


def test_outsiders_get_the_answer_of_an_unknown_id_on_every_route(alice, yvonne, carol):
    all_routes = routes()
    missing = uncovered(all_routes)
    assert not missing, "Routes with ids the walk cannot fill:\n" + "\n".join(missing)
    with_ids = [r for r in all_routes if r.object_params()]
    assert with_ids, "the walk found no route with an id"

    victim = own(alice, "Vera", "mary")
    same_practice = own(alice, "Otto", "gus")  # another patient of X, and their guardian
    other_practice = own(yvonne, "Yara", "yuri")
    outsiders = [
        Outsider("staff of another practice", "office", login(Client(), carol), other_practice),
        Outsider("admin of another practice", "office", login(Client(), yvonne), other_practice),
        Outsider("another patient", "portal", portal_client(same_practice), same_practice),
        Outsider(
            "guardian of another child",
            "portal",
            portal_client(same_practice, username="gus"),
            same_practice,
        ),
        Outsider("visitor at another practice's door", "portal", Client(), other_practice, True),
        Outsider("another practice's API key", "api", Client(), other_practice),
    ]
    for outsider in outsiders:  # warm-up: a signed-in session's first page stamps its use
        if outsider.namespace == "office":
            outsider.client.get("/office/")
        elif outsider.namespace == "portal" and not outsider.bearer_only:
            outsider.client.get(f"/p/{outsider.own.practice.slug}/records/")
    hide = [victim.value(kind) for kind in set(OBJECTS.values())]
    hide += [unknown_value(kind) for kind in set(OBJECTS.values())]

    failures: list[str] = []
    # An outsider's own API key notes when it was last used; nothing else may change.
    ignore: dict[type[Model], set[str]] = {ApiKey: {"last_used_at"}}
    for route in with_ids:
        params = route.object_params()
        before = snapshot(ignore)
        for outsider in outsiders:
            if outsider.namespace != route.namespace:
                continue
            if bearer(route) != outsider.bearer_only:
                continue
            # Every id the victim's, against every id unknown; then (for nested ids) one id
            # the victim's among the outsider's own, against that one unknown.
            cases = [({p: victim for p in params}, {p: None for p in params})]
            if len(params) > 1:
                cases += [({p: victim}, {p: None}) for p in params]
            headers = {"Authorization": f"Bearer {outsider.own.key}"}
            for theirs, unknown in cases:
                for method in ("get", "post"):
                    send = getattr(outsider.client, method)
                    foreign_url = url(route, outsider.own, theirs)
                    unknown_url = url(route, outsider.own, unknown)
                    foreign = answer(send(foreign_url, headers=headers), hide)
                    expected = answer(send(unknown_url, headers=headers), hide)
                    if foreign != expected:
                        failures.append(
                            f"{route.name} {method.upper()} {foreign_url} as {outsider.name}: "
                            f"got {foreign[:2]}, an unknown id gets {expected[:2]}"
                        )
        failures += [
            f"{route.name} as an outsider wrote: {change}"
            for change in changes(before, snapshot(ignore), allowed=())
        ]

    # The victim's ids are real: their owners reach every one of these routes.
    owners = {
        "office": login(Client(), alice),
        "portal": portal_client(victim),
        "api": Client(headers={"Authorization": f"Bearer {victim.key}"}),
        "billing": Client(),  # the TEST processor's page: its signed session is the key
    }
    for route in with_ids:
        client = Client() if bearer(route) else owners[route.namespace]
        path = url(route, victim)
        response = client.get(path)
        if response.status_code == 405:
            response = client.post(path)
        if response.status_code in (404, 410):
            failures.append(
                f"{route.name}: its owner gets {response.status_code} for {path}; "
                "OBJECTS in tests/walk.py names the wrong kind of object for it"
            )
    assert not failures, "\n".join(failures)
