"""The worker under faults: a lost database, a killed process, a stopped worker, an outage.

Faults are real: PostgreSQL backends are terminated with pg_terminate_backend, the worker is a
real process killed with SIGKILL, and mail goes to a real SMTP server on loopback. Tests that
need PostgreSQL say so and are skipped on SQLite (CI runs the suite on both).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clinicportal.notifications.delivery import BACKOFF_CAP, MAX_ATTEMPTS, RECORD_EVERY, backoff
from clinicportal.notifications.models import OutboxEmail, WorkerHeartbeat
from clinicportal.notifications.worker import Worker, worker_beat
from tests.conftest import Mailbox, run_worker

pytestmark = pytest.mark.django_db(transaction=True)
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="terminates PostgreSQL backends"
)
LEASE_SECONDS = 2
ROOT = Path(__file__).resolve().parent.parent


class HeldMailbox(Mailbox):
    """A mail server that takes each message, then (from the ``hold_from``-th message on)
    holds its answer until released."""

    def __init__(self, hold_from: int = 1) -> None:
        super().__init__()
        self.hold_from = hold_from
        self.received = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.messages) >= self.hold_from:
            self.received.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        return answer


@pytest.fixture
def held_smtp(smtp_port: int, request) -> Iterator[HeldMailbox]:
    from aiosmtpd.controller import Controller

    mailbox = HeldMailbox(getattr(request, "param", 1))
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield mailbox
    mailbox.release.set()
    controller.stop()


@pytest.fixture
def short_lease(settings) -> None:
    settings.CLINICPORTAL_WORKER_LEASE_SECONDS = LEASE_SECONDS


@pytest.fixture
def worker_thread() -> Iterator[Callable[[], tuple[Worker, threading.Thread]]]:
    """Start the real worker loop (with its heartbeat) in a thread; stop it afterwards."""
    started: list[tuple[Worker, threading.Thread]] = []

    def start() -> tuple[Worker, threading.Thread]:
        worker = Worker(
            queue_names=["default"],
            interval=0.05,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"thread-{len(started)}",
            excluded_queue_names=[],
        )

        def run() -> None:
            try:
                worker.run()
            finally:
                connection.close()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        started.append((worker, thread))
        return worker, thread

    yield start
    for worker, thread in started:
        worker.running = False
        thread.join(timeout=10)


def queue_test_email(client, to: str = "me@example.com") -> OutboxEmail:
    client.post(reverse("office:settings_email"), {"action": "test", "to": to})
    return OutboxEmail.objects.filter(to=to).latest("pk")


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def status_of(email: OutboxEmail) -> str:
    email.refresh_from_db()
    return email.status


@contextlib.contextmanager
def database_refusing_connections() -> Iterator[None]:
    """Make the test database refuse connections and cut those it has, as while it restarts."""
    import psycopg

    name = connection.settings_dict["NAME"]
    connection.close()
    admin = psycopg.connect(
        host=connection.settings_dict["HOST"],
        port=connection.settings_dict["PORT"],
        user=connection.settings_dict["USER"],
        dbname="postgres",
        autocommit=True,
    )
    try:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        yield
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()


def terminate_other_backends() -> int:
    """Cut every other connection to the test database, as a PostgreSQL restart does."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


@postgresql_only
def test_the_worker_outlives_a_lost_database_and_keeps_sending(
    alice_client, email_settings, smtp_server, worker_thread
):
    _, thread = worker_thread()
    first = queue_test_email(alice_client, "first@example.com")
    wait_for(lambda: status_of(first) == "sent")

    with database_refusing_connections():
        time.sleep(3)  # the worker polls and heartbeats against a database that is away
    assert thread.is_alive()
    second = queue_test_email(alice_client, "second@example.com")
    wait_for(lambda: status_of(second) == "sent")
    assert thread.is_alive()
    assert [m["To"] for m in smtp_server.messages] == ["first@example.com", "second@example.com"]


@postgresql_only
def test_a_database_lost_while_the_server_takes_the_email_sends_it_once(
    alice_client, email_settings, held_smtp, worker_thread
):
    _, thread = worker_thread()
    email = queue_test_email(alice_client)
    assert held_smtp.received.wait(20)
    terminate_other_backends()  # the worker's connection dies while the server has the email
    held_smtp.release.set()

    wait_for(lambda: status_of(email) == "sent")
    assert thread.is_alive() and email.attempts == 1
    time.sleep(LEASE_SECONDS)  # long enough for a wrongly kept lease to run out
    assert len(held_smtp.messages) == 1


@postgresql_only
def test_an_email_whose_worker_was_killed_is_sent_again_with_the_same_message_id(
    alice_client, email_settings, held_smtp, short_lease, monkeypatch
):
    email = queue_test_email(alice_client)
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
        f"{database['NAME']}",
        "CLINICPORTAL_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert held_smtp.received.wait(60)  # the server has taken the email...
        worker.send_signal(signal.SIGKILL)  # ...and the worker dies before it can say so
        worker.wait(10)
    finally:
        worker.kill()
    held_smtp.release.set()

    assert status_of(email) == "sending"
    wait_for(lambda: email.stuck, LEASE_SECONDS * 3)
    outbox = alice_client.get(reverse("office:outbox")).content.decode()
    assert "Stuck" in outbox and "will retry at" in outbox

    time.sleep(LEASE_SECONDS)  # its heartbeat is now older than a lease
    run_worker()  # another worker takes the email up
    email.refresh_from_db()
    assert (email.status, email.attempts, email.secret_link) == ("sent", 2, "")
    first, second = held_smtp.messages
    assert first["Message-ID"] == second["Message-ID"] == email.message_id


def forgot_password(client, practice) -> None:
    """Ask for a reset link: the request becomes a background task that queues the email."""
    client.post(f"/p/{practice.slug}/forgot/", {"identifier": "ada"})


def test_a_task_left_running_by_a_dead_worker_is_taken_up_again(
    client, practice_x, patient_a, issue_access, email_settings, smtp_server, short_lease
):
    issue_access(patient_a, "ada")
    forgot_password(client, practice_x)
    # A worker claimed the task and stopped mid-way: it is "running", and its heartbeat is old.
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    WorkerHeartbeat.objects.create(
        worker_id="dead", hostname="old", pid=1, started_at=long_ago, last_seen=long_ago
    )
    DBTaskResult.objects.update(status="RUNNING", worker_ids=["dead"], started_at=long_ago)
    run_worker()
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert [m["To"] for m in smtp_server.messages] == ["ada@example.com"]


def test_a_task_of_a_live_worker_is_left_alone(
    client, practice_x, patient_a, issue_access, email_settings, smtp_server
):
    issue_access(patient_a, "ada")
    forgot_password(client, practice_x)
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id="busy", hostname="h", pid=1, started_at=now, last_seen=now
    )
    DBTaskResult.objects.update(status="RUNNING", worker_ids=["busy"], started_at=now)
    run_worker()
    assert DBTaskResult.objects.get().status == "RUNNING"
    assert smtp_server.messages == []


def test_a_stopped_worker_is_flagged_on_the_office_home_the_outbox_and_readyz(alice_client, client):
    for page in ("office:patients", "office:outbox"):
        text = alice_client.get(reverse(page)).content.decode()
        assert "Emails are not being sent: the worker has not run yet" in text
    assert client.get("/readyz/worker").status_code == 503
    assert client.get("/readyz").status_code == 200  # web servers stay in the pool

    worker_beat(worker_id="w1", started_at=timezone.now())
    for page in ("office:patients", "office:outbox"):
        assert "Emails are not being sent" not in alice_client.get(reverse(page)).content.decode()
    answer = client.get("/readyz/worker")
    assert answer.status_code == 200 and answer.json()["worker_last_seen"]

    WorkerHeartbeat.objects.update(
        last_seen=timezone.make_aware(datetime.datetime(2026, 11, 2, 9, 15))
    )
    text = alice_client.get(reverse("office:patients")).content.decode()
    assert "Emails are not being sent: the worker last ran at 11/02/2026 9:15 AM" in text
    assert client.get("/readyz/worker").status_code == 503


def test_the_worker_records_a_heartbeat_while_it_runs(worker_thread, short_lease):
    worker, _ = worker_thread()
    wait_for(lambda: WorkerHeartbeat.objects.filter(worker_id=worker.worker_id).exists())
    first = WorkerHeartbeat.objects.get(worker_id=worker.worker_id).last_seen
    wait_for(lambda: WorkerHeartbeat.objects.get(worker_id=worker.worker_id).last_seen > first)


def test_the_worker_renews_the_lease_of_an_email_it_is_still_sending(
    alice_client, email_settings, held_smtp, worker_thread, short_lease
):
    email = queue_test_email(alice_client)
    worker_thread()
    assert held_smtp.received.wait(20)
    email.refresh_from_db()
    first_lease = email.lease_until
    assert first_lease is not None
    time.sleep(LEASE_SECONDS * 1.5)  # a slow server: longer than one lease
    email.refresh_from_db()
    renewed = email.lease_until
    assert email.status == "sending" and not email.stuck and renewed and renewed > first_lease
    held_smtp.release.set()
    wait_for(lambda: status_of(email) == "sent")
    assert len(held_smtp.messages) == 1


def test_retries_after_an_outage_wait_a_few_minutes_at_most(
    alice_client, email_settings, smtp_port
):
    assert [backoff(n).total_seconds() // 60 for n in (1, 2, 3, 4, 10)] == [1, 2, 4, 5, 5]
    assert datetime.timedelta(minutes=5) == BACKOFF_CAP
    email = queue_test_email(alice_client)
    OutboxEmail.objects.update(attempts=12)  # a long outage so far
    run_worker()  # nothing listens: refused again
    email.refresh_from_db()
    assert email.status == "queued" and email.attempts == 13 < MAX_ATTEMPTS
    assert email.next_attempt_at and email.next_attempt_at - timezone.now() <= BACKOFF_CAP


class RefusingMailbox(Mailbox):
    """A mail server that refuses one recipient and takes everything else."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == "nobody@example.com":
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_one_refused_recipient_does_not_hold_back_the_rest_of_the_batch(
    alice_client, email_settings, smtp_port
):
    from aiosmtpd.controller import Controller

    mailbox = RefusingMailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        for to in ("first@example.com", "nobody@example.com", "last@example.com"):
            queue_test_email(alice_client, to)
        run_worker()  # one batch, one connection
    finally:
        controller.stop()
    assert [m["To"] for m in mailbox.messages] == ["first@example.com", "last@example.com"]
    refused = OutboxEmail.objects.get(to="nobody@example.com")
    assert refused.status == "queued" and "550" in refused.last_error
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {"sent", "queued"}


@pytest.mark.parametrize("held_smtp", [RECORD_EVERY + 1], indirect=True)
def test_a_batch_records_its_sent_emails_as_it_goes(
    alice_client, email_settings, held_smtp, worker_thread
):
    for number in range(RECORD_EVERY + 2):
        queue_test_email(alice_client, f"patient{number}@example.com")
    worker_thread()
    assert held_smtp.received.wait(20)  # mid-batch: the server holds one more message
    statuses = list(OutboxEmail.objects.values_list("status", flat=True))
    assert statuses.count("sent") == RECORD_EVERY  # a kill now sends only the rest again
    held_smtp.release.set()
    wait_for(lambda: OutboxEmail.objects.filter(status="sent").count() == RECORD_EVERY + 2)
