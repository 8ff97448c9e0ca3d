"""The background worker: django_tasks_db's worker, made to outlive database faults and be seen.

Four additions to the library's loop:

- Between tasks it sends due emails straight from the outbox, in batches (the outbox is its
  own queue; see notifications.delivery).
- A lost database (a restart, a dropped connection) is waited out with backoff, never fatal:
  the loop closes the connection and tries again, and the task whose result could not be
  written is taken up again once the database is back.
- A heartbeat thread writes a sign of life every few seconds and renews the leases of the
  emails this worker is sending. The office pages and ``/readyz/worker`` read the heartbeat.
- Between tasks the worker takes up work a stopped worker left behind: emails whose lease ran
  out, and tasks left "running" by a worker whose heartbeat stopped.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, OperationalError, close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker as LibraryWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from clinicportal.core import logcontext
from clinicportal.core.logformat import error_code
from clinicportal.notifications.delivery import (
    close_quietly,
    lease,
    outbox_leases_renew,
    outbox_reclaim_expired,
    outbox_send_due,
)
from clinicportal.notifications.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

MAX_DATABASE_WAIT = 30  # seconds between attempts to reach a lost database, at most
HEARTBEATS_KEPT = timedelta(days=1)
# How long the result of a finished task is kept: long enough to look into a failure, then
# forgotten, since a task's arguments say whom it was for (an account, the username typed to
# ask for a reset, an address).
TASK_RESULTS_KEPT = timedelta(days=7)


def heartbeat_every() -> float:
    """Seconds between heartbeats: several within one lease, so one late beat loses nothing."""
    return lease().total_seconds() / 6


def worker_beat(*, worker_id: str, started_at: datetime) -> None:
    """Record that this worker is alive and renew the leases of the emails it is sending."""
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"last_seen": timezone.now()},
        create_defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "last_seen": timezone.now(),
        },
    )
    outbox_leases_renew(worker_id=worker_id)


def tasks_reclaim(*, worker_id: str) -> int:
    """Make tasks left "running" by a stopped worker ready to run again; return how many.

    Call between tasks: then no task claimed by ``worker_id`` itself is really running (its
    result could not be written). Another worker's task is taken up once that worker's
    heartbeat is older than a lease and the task started before that. Tasks must therefore
    be safe to run twice.
    """
    cutoff = timezone.now() - lease()
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen__gte=cutoff).values_list("worker_id", flat=True)
    )
    alive.discard(worker_id)
    count = 0
    for task_id, worker_ids, started_at in DBTaskResult.objects.running().values_list(
        "id", "worker_ids", "started_at"
    ):
        last = worker_ids[-1] if worker_ids else ""
        own = last == worker_id
        if own or (last not in alive and (started_at is None or started_at < cutoff)):
            count += DBTaskResult.objects.filter(pk=task_id, status="RUNNING").update(
                status="READY", started_at=None
            )
            logger.warning("task %s left running by worker %s is taken up again", task_id, last)
    return count


def task_results_prune() -> int:
    """Delete the results of tasks finished more than TASK_RESULTS_KEPT ago; return how many.
    Tasks waiting or running are kept, whatever their age."""
    cutoff = timezone.now() - TASK_RESULTS_KEPT
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


def worker_housekeep(*, worker_id: str) -> None:
    """Take up what stopped workers left, and forget heartbeats of workers long gone."""
    outbox_reclaim_expired()
    tasks_reclaim(worker_id=worker_id)
    WorkerHeartbeat.objects.filter(last_seen__lt=timezone.now() - HEARTBEATS_KEPT).delete()


class Worker(LibraryWorker):
    """The library's worker loop, with database faults survived, a heartbeat and housekeeping."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.started_at = timezone.now()
        self._stopped = threading.Event()
        self._last_housekeeping = 0.0

    def run(self) -> None:
        with self._log_context():
            logger.info("Starting worker worker_id=%s", self.worker_id)
            beating = None
            if not self.batch:
                beating = threading.Thread(target=self._beat_forever, name="heartbeat", daemon=True)
                beating.start()
            try:
                self._loop()
            finally:
                self._stopped.set()
                if beating is not None:
                    beating.join(timeout=5)

    def _log_context(self) -> AbstractContextManager[None]:
        """Every line of this worker names it; no request here, so "actor" says who works."""
        return logcontext.scope(worker=self.worker_id, actor=f"worker:{self.worker_id}")

    def _loop(self) -> None:
        failures = 0
        while self.running:
            try:
                self._housekeep_now_and_then()
                task_result, retrieved = self._claim_next()
                if task_result is not None:
                    self.run_task(task_result)
                emails = outbox_send_due(worker_id=self.worker_id)
                failures = 0
            except DatabaseError as exc:
                failures += 1
                wait = min(0.5 * 2**failures, MAX_DATABASE_WAIT)
                logger.warning(
                    "database unreachable, trying again in %.1fs: %s", wait, error_code(exc)
                )
                close_quietly()
                time.sleep(wait)
                continue
            idle = task_result is None and not emails
            if self.batch and retrieved and idle:
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            close_old_connections()
            if self.running and idle:
                time.sleep(self.interval)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        with logcontext.scope(task=str(db_task_result.id)):
            super().run_task(db_task_result)

    def _claim_next(self) -> tuple[DBTaskResult | None, bool]:
        """Claim the next due task; return it (or None) and whether the queue could be read."""
        close_old_connections()
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
            except OperationalError as exc:
                if is_locked_database_exception(exc):  # SQLite is busy: try again shortly
                    return None, False
                raise
            if task_result is not None:
                task_result.claim(self.worker_id)
        return task_result, True

    def _housekeep_now_and_then(self) -> None:
        if time.monotonic() - self._last_housekeeping < heartbeat_every():
            return
        if self.batch:  # no heartbeat thread: beat here
            worker_beat(worker_id=self.worker_id, started_at=self.started_at)
        worker_housekeep(worker_id=self.worker_id)
        self._last_housekeeping = time.monotonic()

    def _beat_forever(self) -> None:
        """The heartbeat thread: beat until the worker stops, whatever the database does."""
        with self._log_context():
            try:
                while not self._stopped.is_set():
                    try:
                        worker_beat(worker_id=self.worker_id, started_at=self.started_at)
                    except DatabaseError as exc:
                        logger.warning("heartbeat not recorded: %s", error_code(exc))
                        close_quietly()
                    self._stopped.wait(heartbeat_every())
            finally:
                connection.close()
