"""Benchmark: emails per second through the worker to a loopback SMTP server.

    make bench          # or: .venv/bin/python bench/outbox.py

Queues emails for the benchmark practice as the office does (an outbox row and its task in one
transaction), then runs one real worker (`db_worker --batch`) until the queue is empty, sending
to an aiosmtpd server on 127.0.0.1. Goal: at least 200 emails a second with one worker.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

from common import bench_actor, bench_practice, report, setup_django

GOAL_PER_SECOND = 200.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.count += 1
        return "250 Message accepted for delivery"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emails", type=int, default=1000)
    args = parser.parse_args()
    setup_django()

    from aiosmtpd.controller import Controller
    from django.core.management import call_command
    from django.db import transaction

    from clinicportal.notifications.models import EmailSettings, OutboxEmail
    from clinicportal.notifications.services import email_send_test

    practice = bench_practice()
    actor = bench_actor(practice)
    counter = Counter()
    port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        EmailSettings.objects.update_or_create(
            practice=practice,
            defaults={
                "host": "127.0.0.1",
                "port": port,
                "security": EmailSettings.Security.NONE,
                "from_address": "portal@bench.example",
            },
        )
        OutboxEmail.objects.filter(practice=practice).delete()
        with transaction.atomic():
            for number in range(args.emails):
                email_send_test(actor=actor, to=f"patient{number}@bench.example")

        started = time.perf_counter()
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
        elapsed = time.perf_counter() - started
    finally:
        controller.stop()

    sent = OutboxEmail.objects.filter(practice=practice, status=OutboxEmail.Status.SENT).count()
    assert sent == counter.count == args.emails, (sent, counter.count)
    per_second = args.emails / elapsed
    result = {
        "benchmark": "outbox: emails through one worker to loopback SMTP",
        "emails": args.emails,
        "seconds": round(elapsed, 2),
        "emails_per_second": round(per_second, 1),
        "goal_per_second": GOAL_PER_SECOND,
        "met": per_second >= GOAL_PER_SECOND,
    }
    report("outbox", result)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
