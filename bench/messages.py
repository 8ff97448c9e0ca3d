"""Benchmark: the office's task list and a long conversation at 1 000 000 messages, and the
outbox's "a message is waiting" emails through one worker.

    .venv/bin/python bench/messages.py [--rebuild] [--explain] [--profile] [--only PART]
    .venv/bin/python bench/messages.py --small      # a smoke run on a throwaway SQLite file

On PostgreSQL (BENCH_DATABASE_URL, created if missing; default `clinicportal_bench`), a practice
of its own ("bench-messages") gets --patients patients with portal accounts and --messages
messages in conversations over three years, with their tasks, read receipts and emails
(bench/messages_data.py, by COPY: a few minutes). Later runs reuse that data set (and say so)
until its sizes change, or --rebuild. Then, as the practice's admin:

- tasks: messaging.selectors.tasks_page for every filter (status open / signed off / all;
  every category or one; oldest or newest first), on the first page, the next one, the last
  and the one before it;
- view: the office's task list page (office:tasks, through the test Client, signed in) on the
  first and the last page of each filter, once that page lists tasks (else it says why not);
- conversation: the long conversation (--conversation messages) as the office reads it
  (office_conversation + office_messages) and as the portal does (portal_conversation +
  portal_messages), and a conversation of three messages;
- outbox: --emails "message_waiting" emails through one real worker to a loopback SMTP server
  (bench/messages_outbox.py); every email must arrive once.

Goals: p95 < 30 ms, and one query count for every page of a list (and for a long conversation
as for a short one); at least 200 emails a second. Prints PASS or FAIL for each and writes
bench/results/messages.json; exits 1 when a goal is missed. Each timing also shows this
process's CPU time (p50), which another busy process on the machine changes much less than
the wall clock. --only PART (repeatable) measures only those parts. --explain prints the plans
(EXPLAIN ANALYZE) of the slowest task page and of the long conversation; on PostgreSQL every
task page's plan is checked for a sequential scan of the tasks or messages. --profile prints
where the worker's time goes (cProfile).
"""

from __future__ import annotations

import argparse
import functools
import html.parser
import re
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common import percentile, report, run_sized
from messages_data import DataSet, Sizes, ensure
from messages_outbox import measure_outbox

GOAL_P95_MS = 30.0
GOAL_EMAILS_PER_SECOND = 200.0
CATEGORY = "billing"
PAGES = ("first", "next", "last", "before_last")
PARTS = ("tasks", "view", "conversation", "outbox")
SMALL = {"patients": 200, "messages": 2000, "emails": 200, "rounds": 5}


@dataclass
class Timing:
    """One measured call: its times, its query count, the SQL of its slowest query."""

    name: str
    timings: list[float]
    cpu: list[float]  # this process's CPU time of each call (the rest: the database, waits)
    queries: int
    sql: list[str]

    @property
    def p50(self) -> float:
        return statistics.median(self.timings)

    @property
    def p95(self) -> float:
        return percentile(sorted(self.timings), 0.95)

    @property
    def cpu_p50(self) -> float:
        return statistics.median(self.cpu)

    def result(self) -> dict[str, Any]:
        return {
            "p50_ms": round(self.p50, 2),
            "p95_ms": round(self.p95, 2),
            "max_ms": round(max(self.timings), 2),
            "cpu_p50_ms": round(self.cpu_p50, 2),
            "queries": self.queries,
        }


def measure(name: str, call: Callable[[], object], rounds: int) -> Timing:
    """Time ``call`` ``rounds`` times after a warm-up, then count its queries in one more call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(max(2, rounds // 10)):
        call()
    timings, cpu = [], []
    for _ in range(rounds):
        started, used = time.perf_counter(), time.process_time()
        call()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    with CaptureQueriesContext(connection) as captured:
        call()
    sql = [query["sql"] for query in captured.captured_queries]
    return Timing(name, timings, cpu, len(sql), sql)


# The task list --------------------------------------------------------------------------------


def task_filters() -> list[Any]:
    from clinicportal.messaging.selectors import TaskFilter

    return [
        TaskFilter(status=status, category=category, newest_first=newest)
        for status in ("open", "done", "all")
        for category in ("", CATEGORY)
        for newest in (False, True)
    ]


def filter_name(chosen: Any) -> str:
    order = "newest" if chosen.newest_first else "oldest"
    return f"status={chosen.status} category={chosen.category or '*'} {order}"


def filter_params(chosen: Any) -> dict[str, str]:
    params = {"status": chosen.status}
    if chosen.category:
        params["category"] = chosen.category
    if chosen.newest_first:
        params["order"] = "newest"
    return params


def page_rows(actor: Any, chosen: Any, cursor: str | None) -> list[Any]:
    from clinicportal.messaging.selectors import tasks_page

    return tasks_page(actor=actor, chosen=chosen, cursor=cursor).rows


def measure_tasks(actor: Any, rounds: int) -> list[Timing]:
    from clinicportal.core.keyset import LAST
    from clinicportal.messaging.selectors import tasks_page

    measured = []
    for chosen in task_filters():
        first = tasks_page(actor=actor, chosen=chosen, cursor=None)
        last = tasks_page(actor=actor, chosen=chosen, cursor=LAST)
        cursors = {
            "first": None,
            "next": first.next_cursor if first.has_next else None,
            "last": LAST,
            "before_last": last.previous_cursor if last.has_previous else LAST,
        }
        for page in PAGES:
            cursor = cursors[page]
            measured.append(
                measure(
                    f"tasks {filter_name(chosen)} {page}",
                    functools.partial(page_rows, actor, chosen, cursor),
                    rounds,
                )
            )
    return measured


class Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def last_page_link(page: str, path: str) -> str | None:
    """The link to the last page in the list page's HTML: to ``path``, with a value "last"."""
    from clinicportal.core.keyset import LAST

    links = Links()
    links.feed(page)
    for href in links.hrefs:
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(path, href))
        values = [value for _, value in urllib.parse.parse_qsl(parts.query)]
        if parts.path == path and LAST in values:
            return f"{parts.path}?{parts.query}"
    return None


def measure_task_view(data: DataSet, actor: Any, rounds: int) -> tuple[list[Timing], str]:
    """Time the office's task list page, if it lists tasks yet; return (timings, a note)."""
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from clinicportal.messaging.selectors import tasks_page

    try:
        path = reverse("office:tasks")
    except NoReverseMatch:
        return [], "office:tasks does not exist"
    client = Client()
    client.force_login(data.admin.user)
    measured = []
    for chosen in task_filters():
        params = filter_params(chosen)
        response = client.get(path, params)
        if response.status_code != 200:
            return [], f"office:tasks answered {response.status_code}"
        page = response.content.decode()
        first = tasks_page(actor=actor, chosen=chosen, cursor=None)
        if first.rows and not any(str(task.public_id) in page for task in first.rows):
            return [], "office:tasks does not list the tasks yet (no task of the page in it)"
        last = last_page_link(page, path)
        if last is None and first.has_next:
            return [], "office:tasks has no link to the last page (a value 'last') to follow"
        # A list of one page has no link to its last page: it is the first.
        pages = {"first": (path, params), "last": (last, {}) if last else (path, params)}
        for label, (url, query) in pages.items():

            def get(url: str = url, query: dict[str, str] = query) -> None:
                answer = client.get(url, query)
                assert answer.status_code == 200, (url, answer.status_code)

            measured.append(measure(f"view {filter_name(chosen)} {label}", get, rounds))
    return measured, "measured"


# Conversations --------------------------------------------------------------------------------


def measure_conversations(data: DataSet, actor: Any, rounds: int) -> list[Timing]:
    from clinicportal.core.context import PortalActor
    from clinicportal.messaging.selectors import (
        office_conversation,
        office_messages,
        portal_conversation,
        portal_messages,
    )

    portal = PortalActor(account=data.account, patient=data.patient, ip="127.0.0.1")

    def office(public_id: Any) -> Callable[[], object]:
        def read() -> object:
            found = office_conversation(actor=actor, patient=data.patient, public_id=public_id)
            return office_messages(actor=actor, conversation=found).rows

        return read

    def patient(public_id: Any) -> Callable[[], object]:
        def read() -> object:
            found = portal_conversation(actor=portal, public_id=public_id)
            return portal_messages(actor=portal, conversation=found).rows

        return read

    long, short = data.long.public_id, data.short.public_id
    count = data.long.messages.count()
    return [
        measure(f"conversation office {count} messages", office(long), rounds),
        measure("conversation office 3 messages", office(short), rounds),
        measure(f"conversation portal {count} messages", patient(long), rounds),
        measure("conversation portal 3 messages", patient(short), rounds),
    ]


# Plans ----------------------------------------------------------------------------------------


def explain(sql: str, *, analyze: bool) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN {'(ANALYZE, BUFFERS) ' if analyze else ''}{sql}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(" ".join(str(v) for v in row) for row in cursor.fetchall())


def sequential_scans(timings: list[Timing]) -> list[str]:
    """The task pages whose plan reads the tasks or the messages table from end to end."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    found = []
    for timing in timings:
        for sql in timing.sql:
            plan = explain(sql, analyze=False)
            if re.search(r"Seq Scan on (messaging_task|messaging_message)\b", plan):
                found.append(timing.name)
    return found


# The report -----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def line(timing: Timing, goal_queries: int) -> str:
    ok = timing.p95 < GOAL_P95_MS and timing.queries == goal_queries
    return (
        f"  {timing.name:<54} p50 {timing.p50:6.2f} ms  p95 {timing.p95:6.2f} ms  "
        f"(cpu p50 {timing.cpu_p50:6.2f} ms)  {timing.queries:>2} queries  {verdict(ok)}"
    )


def list_goals(name: str, timings: list[Timing], groups: list[list[Timing]]) -> dict[str, bool]:
    """p95 under the goal everywhere, and one query count within each group of pages."""
    if not timings:
        return {}
    return {
        f"{name}_p95": all(t.p95 < GOAL_P95_MS for t in timings),
        f"{name}_same_queries": all(len({t.queries for t in group}) == 1 for group in groups),
    }


def print_list(title: str, timings: list[Timing], groups: list[list[Timing]]) -> None:
    print(title)
    for group in filter(None, groups):
        counts = sorted(t.queries for t in group)
        usual = max(set(counts), key=counts.count)
        for timing in group:
            print(line(timing, usual))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversation", type=int, default=500, help="the long one's messages")
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=40, help="timed calls per page")
    parser.add_argument("--only", action="append", choices=PARTS, help="measure only this part")
    parser.add_argument("--rebuild", action="store_true", help="make the data set again")
    parser.add_argument("--explain", action="store_true", help="print the slowest plans")
    parser.add_argument("--profile", action="store_true", help="profile the worker")
    parser.add_argument(
        "--small", action="store_true", help="a smoke run: small sizes, a throwaway SQLite file"
    )
    args = parser.parse_args()
    return run_sized(parser, args, small=SMALL, prefix="bench-messages-", run=run)


def run(args: argparse.Namespace) -> int:
    from django.db import connection

    from clinicportal.core.context import StaffActor

    parts = set(args.only or PARTS)
    sizes = Sizes(patients=args.patients, messages=args.messages, conversation=args.conversation)
    data = ensure(sizes, rebuild=args.rebuild)
    if data.reused:
        print(f"reusing the data set in the database ({sizes.label}); --rebuild makes it again")
    else:
        print(f"built the data set ({sizes.label}) in {data.seconds:.1f} s")
    actor = StaffActor(user=data.admin.user, staff=data.admin, ip="127.0.0.1", user_agent="bench")

    tasks = measure_tasks(actor, args.rounds) if "tasks" in parts else []
    views, view_note = (
        measure_task_view(data, actor, args.rounds) if "view" in parts else ([], "not asked")
    )
    conversations = (
        measure_conversations(data, actor, args.rounds) if "conversation" in parts else []
    )
    outbox = measure_outbox(data, args.emails, args.profile) if "outbox" in parts else None
    scans = sequential_scans(tasks)

    # Every page of the task list, and of its page, has one query count; a conversation reads
    # with as many queries when short as when long (each side its own).
    sides = [[t for t in conversations if f" {side} " in t.name] for side in ("office", "portal")]
    goals = {
        **list_goals("tasks", tasks, [tasks]),
        **({"tasks_use_indexes": not scans} if tasks else {}),
        **list_goals("view", views, [views]),
        **list_goals("conversation", conversations, sides),
    }
    if outbox is not None:
        goals["outbox_rate"] = outbox["emails_per_second"] >= GOAL_EMAILS_PER_SECOND
        goals["outbox_each_once"] = outbox["each_once"]

    if tasks:
        print_list(f"\ntask list (selector tasks_page), {data.practice.slug}:", tasks, [tasks])
        if scans:
            print("  sequential scans of tasks or messages in:", ", ".join(scans))
    if "view" in parts:
        print_list(f"task list page (office:tasks): {view_note}", views, [views])
    if conversations:
        print_list("conversation (selectors):", conversations, sides)
    if outbox is not None:
        print(
            f"outbox: {outbox['emails']} emails in {outbox['worker_seconds']} s, "
            f"{outbox['emails_per_second']} a second (queued in {outbox['queue_seconds']} s; "
            f"the worker's CPU: {outbox['worker_cpu_ms_per_email']} ms an email); "
            f"each arrived once: {outbox['each_once']}"
        )
    if args.explain and tasks:
        slowest = max(tasks, key=lambda t: t.p95)
        print(f"\nplan of the slowest task page ({slowest.name}, p95 {slowest.p95:.2f} ms):")
        for sql in slowest.sql:
            print(explain(sql, analyze=True))
    if args.explain and conversations:
        history = conversations[0]
        print(f"\nplans of {history.name}:")
        for sql in history.sql:
            print(explain(sql, analyze=True), end="\n\n")
    print()
    for goal, ok in goals.items():
        print(f"{verdict(ok)}  {goal}")

    result = {
        "benchmark": "task list, conversations and outbox at scale (secure messages)",
        "database": connection.vendor,
        "data_set": sizes.label,
        "data_set_reused": data.reused,
        "data_set_build_seconds": round(data.seconds, 1),
        "data_set_counts": data.counts,
        "rounds": args.rounds,
        "tasks": {t.name: t.result() for t in tasks},
        "task_view": {"note": view_note, **{t.name: t.result() for t in views}},
        "conversations": {t.name: t.result() for t in conversations},
        "outbox": outbox,
        "sequential_scans": scans,
        "goal_p95_ms": GOAL_P95_MS,
        "goal_emails_per_second": GOAL_EMAILS_PER_SECOND,
        "goals": goals,
        "met": all(goals.values()),
    }
    report("messages_small" if args.small else "messages", result)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
