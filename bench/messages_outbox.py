"""The outbox part of bench/messages.py: "a message is waiting" emails through one worker.

The emails are queued with notifications.services.email_queue in one transaction, as a service
queues its email, then one real worker (`db_worker --batch`, as the site runs it) sends them to
an aiosmtpd server on 127.0.0.1 in a process of its own (bench/smtp_sink.py). Every email must
arrive once: each Message-ID the server took is checked against the outbox.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import socket
import time
from typing import Any

from messages_data import DataSet
from smtp_sink import smtp_sink


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure_outbox(data: DataSet, emails: int, profile: bool) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import transaction

    from clinicportal.core.http import absolute_url
    from clinicportal.notifications.models import EmailSettings, OutboxEmail
    from clinicportal.notifications.services import email_queue

    practice = data.practice
    domain = "outbox.bench.example"
    port = free_port()
    with smtp_sink(port) as received:
        EmailSettings.objects.update_or_create(
            practice=practice,
            defaults={
                "host": "127.0.0.1",
                "port": port,
                "security": EmailSettings.Security.NONE,
                "from_address": "portal@bench.example",
            },
        )
        OutboxEmail.objects.filter(practice=practice, to__endswith=f"@{domain}").delete()
        waiting = OutboxEmail.objects.filter(status=OutboxEmail.Status.QUEUED).count()
        if waiting:
            print(f"note: {waiting} emails were queued already; the worker sends them too")
        started = time.perf_counter()
        context = {"portal_url": absolute_url(practice.portal_path())}
        with transaction.atomic():  # as a service queues its email: in its transaction
            for number in range(emails):
                email_queue(
                    practice=practice,
                    to=f"patient{number}@{domain}",
                    template="message_waiting",
                    context=context,
                )
        queued_seconds = time.perf_counter() - started
        profiler = cProfile.Profile() if profile else None
        started, used = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
        if profiler:
            profiler.disable()
        seconds, cpu = time.perf_counter() - started, time.process_time() - used
    ours = OutboxEmail.objects.filter(practice=practice, to__endswith=f"@{domain}")
    sent = ours.filter(status=OutboxEmail.Status.SENT).count()
    expected = set(ours.values_list("message_id", flat=True))
    arrived = [found for found in received if found in expected]
    once = len(arrived) == len(set(arrived)) == len(expected) == emails == sent
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue())
    return {
        "emails": emails,
        "queue_seconds": round(queued_seconds, 2),
        "worker_seconds": round(seconds, 2),
        "emails_per_second": round(emails / seconds, 1),
        # The worker's own CPU time: what one email costs it, whatever else the machine does.
        "worker_cpu_ms_per_email": round(cpu * 1000 / emails, 2),
        "sent": sent,
        "received": len(arrived),
        "each_once": once,
    }
