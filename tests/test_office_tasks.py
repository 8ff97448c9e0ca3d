"""Tasks → Check for Web Messages: the task, signing off, the count in the menu, and the
home page's notice of "message waiting" emails that failed."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from clinicportal.core.context import PortalActor
from clinicportal.messaging import services
from clinicportal.messaging.models import Message, Task
from clinicportal.messaging.services import Draft
from tests.conftest import actor

PATIENTS = reverse("office:patients")
TASKS = reverse("office:tasks")


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


# The task: the old system's reminder window ---------------------------------------------------


def task_of(message: Message) -> Task:
    return Task.objects.select_related("patient").get(message=message)


def task_url(task: Task, name: str = "office:task") -> str:
    return reverse(name, args=[task.public_id])


def test_the_task_shows_the_whole_message_and_records_the_viewing(bob_client, bob, ada):
    from clinicportal.audit.models import AuditEvent

    message = send(
        ada,
        "Hello,\n<b>not bold</b> see https://example.com/x\nThanks",
        category="clinical",
        subject="Itchy eyes",
        requests_response=True,
    )
    task = task_of(message)
    response = bob_client.get(task_url(task))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Itchy eyes</h1>" in html
    assert "Ada Lovelace" in html and "Clinical question" in html
    assert "Hello,<br>&lt;b&gt;not bold&lt;/b&gt; see " in html  # escaped, lines kept
    assert '<a href="https://example.com/x" rel="noopener noreferrer"' in html
    assert "Response requested" in html and ">Open<" in html
    assert "Sign off</button>" in html and "Re-open" not in html
    reply = reverse(
        "office:conversation", args=[task.patient.public_id, message.conversation.public_id]
    )
    assert f'href="{reply}">Reply</a>' in html
    viewed = AuditEvent.objects.get(action=AuditEvent.Action.MESSAGES_OFFICE_VIEWED)
    assert viewed.patient_id == task.patient_id and viewed.actor_name == bob.display_name


def test_the_task_names_the_practices_own_category_and_its_attachments(alice, bob_client, ada):
    from clinicportal.messaging.models import Attachment
    from tests.conftest import add_chart_pdf

    services.messaging_settings_save(
        actor=actor(alice), response_time="soon", names={"refill": "Eye drops"}, off=[]
    )
    message = send(ada)
    chart = add_chart_pdf(alice, ada.patient, "drops-label.pdf")
    Attachment.objects.create(
        practice=message.practice,
        patient=message.patient,
        message=message,
        blob=chart.blob,
        filename="photo of <the> bottle.pdf",
    )
    html = bob_client.get(task_url(task_of(message))).content.decode()
    assert "Eye drops" in html and "Prescription refill" not in html
    attachment = message.attachments.get()
    opens = reverse(
        "office:message_attachment_inline", args=[message.patient.public_id, attachment.public_id]
    )
    assert (
        f'<a href="{opens}" target="_blank" rel="noopener">photo of &lt;the&gt; bottle.pdf<' in html
    )


def test_sign_off_records_who_and_when_and_goes_back_to_the_list_it_came_from(bob_client, bob, ada):
    from clinicportal.audit.models import AuditEvent

    task = task_of(send(ada))
    back = TASKS + "?category=refill&order=newest"
    response = bob_client.post(
        task_url(task, "office:task_sign_off") + "?" + urlencode({"next": back})
    )
    assert response.status_code == 302 and response["Location"] == back
    task.refresh_from_db()
    assert not task.is_open
    assert task.signed_off_by_id == bob.user_id and task.signed_off_by_name == "Bob Front Desk"
    event = AuditEvent.objects.get(action=AuditEvent.Action.TASK_SIGNED_OFF)
    assert event.object_id == str(task.public_id) and event.actor_name == "Bob Front Desk"
    page = bob_client.get(back).content.decode()
    assert "Signed off: Ada Lovelace, “I would like a refill.”." in page
    html = bob_client.get(task_url(task)).content.decode()
    assert "Signed off by Bob Front Desk at " in html
    assert "Re-open</button>" in html and "Sign off</button>" not in html


def test_a_second_sign_off_changes_nothing_and_says_who_was_first(
    alice_client, bob_client, bob, ada
):
    from clinicportal.audit.models import AuditEvent

    task = task_of(send(ada))
    bob_client.post(task_url(task, "office:task_sign_off"))
    task.refresh_from_db()
    first = (task.signed_off_at, task.signed_off_by_id)
    response = alice_client.post(task_url(task, "office:task_sign_off"), follow=True)
    assert response.status_code == 200
    assert "Already signed off by Bob Front Desk at " in response.content.decode()
    assert "nothing was changed" in response.content.decode()
    task.refresh_from_db()
    assert (task.signed_off_at, task.signed_off_by_id) == first
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TASK_SIGNED_OFF).count() == 1


def test_re_open_opens_it_again_once(bob_client, alice_client, ada):
    from clinicportal.audit.models import AuditEvent

    task = task_of(send(ada))
    bob_client.post(task_url(task, "office:task_sign_off"))
    response = alice_client.post(task_url(task, "office:task_reopen"))
    assert response.status_code == 302 and response["Location"] == task_url(task)
    task.refresh_from_db()
    assert task.is_open and task.signed_off_by is None and task.signed_off_by_name == ""
    again = bob_client.post(task_url(task, "office:task_reopen"), follow=True)
    assert "This task is already open; nothing was changed." in again.content.decode()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TASK_REOPENED).count() == 1


def test_re_open_keeps_the_list_to_go_back_to(bob_client, ada):
    task = task_of(send(ada))
    bob_client.post(task_url(task, "office:task_sign_off"))
    back = TASKS + "?status=done"
    response = bob_client.post(
        task_url(task, "office:task_reopen") + "?" + urlencode({"next": back})
    )
    assert response["Location"] == task_url(task) + "?" + urlencode({"next": back})
    html = bob_client.get(response["Location"]).content.decode()
    assert f'href="{escape(back)}">← Tasks' in html


@pytest.mark.parametrize("name", ["office:task_sign_off", "office:task_reopen"])
def test_a_get_on_an_action_is_refused_and_changes_nothing(bob_client, ada, name):
    task = task_of(send(ada))
    assert bob_client.get(task_url(task, name)).status_code == 405
    task.refresh_from_db()
    assert task.is_open


def test_next_outside_the_office_is_ignored(bob_client, ada):
    task = task_of(send(ada))
    for away in ("https://evil.example/office/", "//evil.example/office/", "/p/clinic-x/"):
        url = task_url(task, "office:task_sign_off") + "?" + urlencode({"next": away})
        Task.objects.filter(pk=task.pk).update(signed_off_at=None, signed_off_by=None)
        assert bob_client.post(url)["Location"] == TASKS


@pytest.mark.parametrize("name", ["office:task", "office:task_sign_off", "office:task_reopen"])
def test_another_practices_staff_find_no_such_task_and_change_nothing(carol_client, ada, name):
    from clinicportal.audit.models import AuditEvent

    task = task_of(send(ada))
    before = AuditEvent.objects.count()
    url = task_url(task, name)
    response = carol_client.get(url) if name == "office:task" else carol_client.post(url)
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.is_open and AuditEvent.objects.count() == before


@pytest.mark.parametrize("name", ["office:task", "office:task_sign_off", "office:task_reopen"])
def test_an_unknown_task_is_not_found(bob_client, ada, name):
    import uuid

    send(ada)
    url = reverse(name, args=[uuid.uuid4()])
    response = bob_client.get(url) if name == "office:task" else bob_client.post(url)
    assert response.status_code == 404
    assert Task.objects.get().is_open


def test_the_task_pages_mark_tasks_as_the_current_section(bob_client, ada):
    html = bob_client.get(task_url(task_of(send(ada)))).content.decode()
    assert f'<a href="{TASKS}" aria-current="page">Tasks' in html


# The home page: "message waiting" emails that failed -------------------------------------------


def office_reply(member, patient) -> Message:
    return services.office_send(
        actor=actor(member),
        patient=patient,
        draft=Draft(body="Your drops are ready."),
        subject="Drops",
        category="refill",
    )


def fail(*emails) -> None:
    from clinicportal.notifications.models import OutboxEmail

    OutboxEmail.objects.filter(pk__in=[e.pk for e in emails]).update(
        status=OutboxEmail.Status.FAILED, last_error="550 no such mailbox"
    )


def test_the_home_page_says_when_message_waiting_emails_failed(bob_client, bob, patient_a):
    replies = [office_reply(bob, patient_a), office_reply(bob, patient_a)]
    html = bob_client.get(reverse("office:home"), follow=True).content.decode()
    assert "could not be sent" not in html
    fail(*(reply.email for reply in replies))
    html = bob_client.get(reverse("office:home"), follow=True).content.decode()
    outbox = reverse("office:outbox")
    assert (
        f'2 “message waiting” emails could not be sent — see the <a href="{outbox}">Outbox</a>.'
        in html
    )
    assert "2 emails could not be sent." in html  # the Outbox's own notice as before


def test_other_failed_emails_do_not_count_as_message_emails(alice, alice_client, email_settings):
    from clinicportal.notifications.models import OutboxEmail
    from clinicportal.notifications.services import email_send_test

    email_send_test(actor=actor(alice), to="a@example.com")
    fail(*OutboxEmail.objects.all())
    html = alice_client.get(PATIENTS).content.decode()
    assert "1 email could not be sent." in html and "message waiting" not in html


def test_the_notice_costs_one_query_and_none_while_every_email_goes(bob_client, bob, patient_a):
    def messaging_queries() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            bob_client.get(PATIENTS)
        return [q["sql"] for q in queries if 'FROM "messaging_message"' in q["sql"]]

    reply = office_reply(bob, patient_a)
    bob_client.get(PATIENTS)  # the first page after sign-in stamps the session's use
    assert messaging_queries() == []
    fail(reply.email)
    assert len(messaging_queries()) == 1
