"""Tasks → Check for Web Messages: the list, the task, signing off, and the count in the menu."""

from __future__ import annotations

from html import unescape
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from clinicportal.core.context import PortalActor
from clinicportal.messaging import services
from clinicportal.messaging.models import Message, Task
from clinicportal.messaging.selectors import TaskFilter
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


# The list: Tasks → Check for Web Messages ------------------------------------------------------


def rows_of(response) -> list[int]:
    assert response.status_code == 200
    return [row.task.pk for row in response.context["rows"]]


def link(html: str, text: str) -> str | None:
    """The address of the pages' link called ``text`` (First, Previous, Next, Last), or None."""
    import re

    found = re.search(rf'<a href="(\?[^"]*)"[^>]*>{text}</a>', html)
    return TASKS + unescape(found.group(1)) if found else None


def spread(tasks: list[Task], *, start_days_ago: int = 30) -> list[Task]:
    """Give the tasks distinct receipt times a minute apart, oldest first, in the given order."""
    import datetime

    from django.utils import timezone

    start = timezone.now() - datetime.timedelta(days=start_days_ago)
    for number, task in enumerate(tasks):
        task.created_at = start + datetime.timedelta(minutes=number)
        Task.objects.filter(pk=task.pk).update(created_at=task.created_at)
    return tasks


@pytest.fixture
def many(ada, bea) -> list[Task]:
    """60 tasks a minute apart: even ones Ada's refills, odd ones Bea's appointments."""
    sent = [
        send(ada, f"Refill {n}") if n % 2 == 0 else send(bea, f"Visit {n}", category="appointment")
        for n in range(60)
    ]
    return spread([Task.objects.get(message=message) for message in sent])


def test_the_list_shows_each_message_with_its_columns(bob_client, bob, ada, bea):
    import datetime

    from django.utils import timezone

    first = task_of(send(ada, "\n  Please call me back.\nAbout the drops.", requests_response=True))
    second = task_of(send(bea, "Can I come Tuesday?", category="appointment"))
    Task.objects.filter(pk=first.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    response = bob_client.get(TASKS)
    html = response.content.decode()
    assert rows_of(response) == [first.pk, second.pk]  # oldest first
    assert "2 open tasks" in html
    patient = reverse("office:patient", args=[first.patient.public_id])
    assert f'<a href="{patient}">Lovelace, Ada</a>' in html
    assert ">Prescription refill<" in html and ">Appointment<" in html
    opened = f'{task_url(first)}?{escape(urlencode({"next": TASKS}))}">Please call me back.</a>'
    assert opened in html  # the first line that has words, linking to the task
    assert html.count('<span aria-hidden="true">REQ</span>') == 1
    assert '<span class="visually-hidden">Response requested</span>' in html
    assert ">3\xa0days<" in html  # timesince keeps the number with its unit
    assert "Signed off</th>" not in html  # no such column on the open list
    assert '<a class="button primary" href="/office/tasks/">Check for Web Messages</a>' in html
    for label in ("Show", "Category", "Order"):
        assert f">{label}</label>" in html


def test_signed_off_and_all_show_who_signed_off(bob_client, bob, ada, bea):
    done = task_of(send(ada))
    waiting = task_of(send(bea))
    services.task_sign_off(actor=actor(bob), task=done)
    assert rows_of(bob_client.get(TASKS)) == [waiting.pk]
    response = bob_client.get(TASKS, {"status": "done"})
    assert rows_of(response) == [done.pk]
    html = response.content.decode()
    assert "Signed off</th>" in html and ">Bob Front Desk, " in html
    everything = bob_client.get(TASKS, {"status": "all"})
    assert rows_of(everything) == [done.pk, waiting.pk]
    assert '<td data-label="Signed off">Open</td>' in everything.content.decode()
    assert "1 open task" in html  # the count is of the open ones, whatever is shown


def test_the_list_filters_by_category_and_orders_either_way(bob_client, many):
    refills = [task.pk for task in many if task.category == "refill"]
    assert rows_of(bob_client.get(TASKS, {"category": "refill"})) == refills[:25]
    newest = bob_client.get(TASKS, {"category": "refill", "order": "newest"})
    assert rows_of(newest) == refills[::-1][:25]
    assert rows_of(bob_client.get(TASKS, {"order": "newest"}))[:3] == [t.pk for t in many[:-4:-1]]
    html = newest.content.decode()
    assert '<option value="refill" selected>' in html and '<option value="newest" selected>' in html
    check = '<a class="button primary" href="/office/tasks/?category=refill&amp;order=newest">'
    assert check in html  # Check for Web Messages reads the same choices again


def test_the_list_uses_the_practices_names_for_the_categories(alice, bob_client, ada):
    services.messaging_settings_save(
        actor=actor(alice), response_time="soon", names={"refill": "Eye drops"}, off=["optical"]
    )
    send(ada)
    html = bob_client.get(TASKS).content.decode()
    assert '<td data-label="Category">Eye drops</td>' in html
    assert '<option value="optical">Glasses or contacts</option>' in html  # off, still a filter


def test_first_next_last_and_previous_pages_hold_the_right_rows(bob_client, many):
    ids = [task.pk for task in many]
    first = bob_client.get(TASKS)
    assert rows_of(first) == ids[:25]
    html = first.content.decode()
    assert link(html, "First") is None and link(html, "Previous") is None
    second = bob_client.get(link(html, "Next"))
    assert rows_of(second) == ids[25:50]
    third = bob_client.get(link(second.content.decode(), "Next"))
    assert rows_of(third) == ids[50:]
    assert link(third.content.decode(), "Next") is None
    last = bob_client.get(link(html, "Last"))
    assert rows_of(last) == ids[35:]
    back = bob_client.get(link(last.content.decode(), "Previous"))
    assert rows_of(back) == ids[10:35]
    assert rows_of(bob_client.get(link(back.content.decode(), "First"))) == ids[:25]


def test_the_pages_links_keep_the_chosen_filters(bob_client, many):
    html = bob_client.get(TASKS, {"category": "appointment", "order": "newest"}).content.decode()
    following = link(html, "Next")
    assert following is not None and "category=appointment&order=newest&page=" in following
    appointments = [t.pk for t in many if t.category == "appointment"][::-1]
    assert rows_of(bob_client.get(following)) == appointments[25:]
    assert "category=appointment&order=newest&page=last" in (link(html, "Last") or "")


def test_every_page_and_every_filter_costs_the_same_queries(bob_client, bob, many):
    services.task_sign_off(actor=actor(bob), task=many[0])

    def count(url: str, params: dict[str, str] | None = None) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = bob_client.get(url, params or {})
        assert response.status_code == 200 and response.context["rows"]
        return len(queries)

    bob_client.get(TASKS)  # the first page after sign-in stamps the session's use
    first = count(TASKS)
    html = bob_client.get(TASKS).content.decode()
    pages = [link(html, "Next"), link(html, "Last")]
    last = bob_client.get(pages[1]).content.decode()
    pages.append(link(last, "Previous"))
    assert [count(url) for url in pages if url] == [first] * 3
    choices = [
        {"status": "done"},
        {"status": "all"},
        {"category": "appointment"},
        {"category": "refill", "status": "all", "order": "newest"},
        {"order": "newest", "page": "last"},
    ]
    assert [count(TASKS, params) for params in choices] == [first] * len(choices)


def test_bad_choices_give_the_default_list(bob_client, many):
    response = bob_client.get(
        TASKS, {"status": "bogus", "category": "nope", "order": "sideways", "page": "zzz"}
    )
    assert rows_of(response) == [task.pk for task in many[:25]]
    assert response.context["chosen"] == TaskFilter()


@pytest.mark.parametrize("cursor", ["a9999-12-31T23:59:59-05:00_1", "b0001-01-01T00:00:00+05:00_1"])
def test_a_cursor_past_the_calendar_in_utc_gives_the_first_page(bob_client, many, cursor):
    response = bob_client.get(TASKS, {"page": cursor})
    assert response.status_code == 200
    assert rows_of(response) == [task.pk for task in many[:25]]


def test_a_page_past_every_remaining_task_starts_again_at_the_first(bob_client, bob, many):
    html = bob_client.get(TASKS).content.decode()
    following = link(html, "Next")
    Task.objects.filter(pk__in=[t.pk for t in many[25:]]).update(
        signed_off_at=many[0].created_at, signed_off_by=bob.user
    )
    assert rows_of(bob_client.get(following)) == [t.pk for t in many[:25]]


def test_empty_lists_say_so(bob_client, bob, ada):
    html = bob_client.get(TASKS).content.decode()
    assert "No open tasks. When patients send secure messages" in html and "<table" not in html
    assert "submit forms" in html and "a refund comes back failed" in html
    assert "0 open tasks" in html
    send(ada)
    html = bob_client.get(TASKS, {"category": "billing"}).content.decode()
    assert "No tasks match these choices." in html
    assert '<a href="/office/tasks/">Show the open tasks</a>' in html


def test_another_practices_tasks_are_not_listed(carol_client, ada):
    send(ada)
    response = carol_client.get(TASKS, {"status": "all"})
    assert rows_of(response) == []
    assert "Lovelace" not in response.content.decode()


def test_the_list_is_only_read(bob_client, ada):
    send(ada)
    assert bob_client.post(TASKS).status_code == 405


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


def test_a_long_first_line_is_cut_after_a_word_and_says_so(bob_client, ada):
    import re

    body = "For about a week my eyes have felt gritty and a little red by the evening. " * 3
    send(ada, body + "\nSecond line.")
    listed = unescape(bob_client.get(TASKS).content.decode())
    found = re.search(r">(For about[^<]*)<", listed)
    assert found is not None
    line = found.group(1)
    assert line.endswith("…") and len(line) <= 120
    kept = line.removesuffix("…")
    assert body.startswith(kept) and body[len(kept)] == " "  # between two words, not in one


def test_a_word_that_ends_right_at_the_limit_is_kept():
    """The space right after the last word that fits, at the limit's last place, is a cut too:
    the word before it is kept whole, not dropped for the space before it."""
    from clinicportal.messaging.models import FIRST_LINE_MAX, Message

    kept = "w" * 70 + " " + "b" * (FIRST_LINE_MAX - 72)  # ends at the 119th character
    shown = Message(body=kept + " and more words after it").first_line
    assert shown == kept + "…" and len(shown) == FIRST_LINE_MAX
