from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clinicportal.demo.data import DEMO_SMTP_PORT


class Command(BaseCommand):
    help = "Run a loopback SMTP server for the demo: it accepts every email and prints a line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=DEMO_SMTP_PORT)

    def handle(self, *args: Any, **options: Any) -> None:
        from aiosmtpd.controller import Controller

        command = self

        class Printer:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                command.stdout.write(f"demo SMTP: accepted mail to {', '.join(envelope.rcpt_tos)}")
                return "250 Message accepted for delivery"

        controller = Controller(Printer(), hostname="127.0.0.1", port=options["port"])
        controller.start()
        self.stdout.write(f"Demo SMTP server on 127.0.0.1:{options['port']} (mail goes nowhere).")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
