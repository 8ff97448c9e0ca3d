"""Tasks → Check for Web Messages, the list: its columns, filters, order and pages."""

from __future__ import annotations

from html import unescape
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from clinicportal.messaging import services
from clinicportal.messaging.models import Task
from clinicportal.messaging.selectors import TaskFilter
from tests.conftest import actor
from tests.test_office_tasks import TASKS, send, task_of, task_url


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
