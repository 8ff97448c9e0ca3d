"""Tasks → Check for Web Messages: the list, the task, signing off, and the count in the menu."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.accounts.models import PortalAccount
from clinicportal.core.context import PortalActor
from clinicportal.messaging import services
from clinicportal.messaging.models import Message, Task
from clinicportal.messaging.services import Draft
from tests.conftest import actor

PATIENTS = reverse("office:patients")
TASKS = reverse("office:tasks")


@pytest.fixture
def ada(patient_a, issue_access) -> PortalActor:
    username, _ = issue_access(patient_a, "ada")
    account = PortalAccount.objects.get(username=username)
    return PortalActor(account=account, patient=patient_a, ip="127.0.0.1", user_agent="pytest")


@pytest.fixture
def bea(patient_b, issue_access) -> PortalActor:
    username, _ = issue_access(patient_b, "bea")
    account = PortalAccount.objects.get(username=username)
    return PortalActor(account=account, patient=patient_b, ip="127.0.0.1", user_agent="pytest")


def send(
    who: PortalActor,
    body: str = "I would like a refill.\nThe blue drops, please.",
    *,
    category: str = "refill",
    subject: str = "Refill",
    requests_response: bool = False,
) -> Message:
    return services.conversation_start(
        actor=who,
        category=category,
        subject=subject,
        draft=Draft(body=body),
        requests_response=requests_response,
    )


def nav_count(html: str) -> str | None:
    """The count beside Tasks in the menu, as its accessible text says it, or None."""
    import re

    found = re.search(r'class="badge nav-count">(\d+)<span class="visually-hidden">([^<]*)<', html)
    return f"{found.group(1)}{found.group(2)}" if found else None


def test_the_menu_counts_the_open_tasks_and_the_count_falls_after_a_sign_off(
    bob_client, bob, ada, bea
):
    assert nav_count(bob_client.get(PATIENTS).content.decode()) is None  # none yet: no badge
    send(ada)
    first = send(bea)
    assert nav_count(bob_client.get(PATIENTS).content.decode()) == "2 open tasks"
    services.task_sign_off(actor=actor(bob), task=Task.objects.get(message=first))
    assert nav_count(bob_client.get(PATIENTS).content.decode()) == "1 open task"


def test_the_menu_counts_only_the_practices_own_tasks(carol_client, ada):
    send(ada)
    assert nav_count(carol_client.get(reverse("office:outbox")).content.decode()) is None


def test_the_count_costs_one_query_a_page(bob_client, ada):
    send(ada)
    bob_client.get(PATIENTS)  # the first page after sign-in stamps the session's use
    with CaptureQueriesContext(connection) as queries:
        bob_client.get(PATIENTS)
    counts = [q["sql"] for q in queries if 'FROM "messaging_task"' in q["sql"]]
    assert len(counts) == 1, counts


def test_the_count_is_read_only_when_a_page_shows_it_and_only_once(bob, ada):
    from django.test import RequestFactory
    from django.urls import resolve

    from clinicportal.office.context_processors import nav

    send(ada)
    request = RequestFactory().get(PATIENTS)
    request.resolver_match = resolve(PATIENTS)
    request.actor = actor(bob)  # type: ignore[attr-defined]
    with CaptureQueriesContext(connection) as queries:
        context = nav(request)
    assert context["nav"] == "patients" and len(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        assert (context["open_tasks"](), context["open_tasks"]()) == (1, 1)
    assert len(queries) == 1


def test_no_count_without_a_signed_in_staff_member(client, ada):
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("office:login")).content.decode()
    assert nav_count(html) is None
    assert not [q for q in queries if "messaging_task" in q["sql"]]
