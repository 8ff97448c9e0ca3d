"""A loopback SMTP server (aiosmtpd) in a process of its own, for the outbox benchmarks.

    python bench/smtp_sink.py PORT

Takes every email on 127.0.0.1:PORT and prints "ready" once it listens. When its standard input
closes, it stops and prints the Message-ID of each email it took, in order, as one JSON list.
In its own process the server does not compete with the worker being measured for the GIL, as
a mail server on another machine would not.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


class Inbox:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = _MESSAGE_ID.search(envelope.content)
        with self.lock:
            self.ids.append(found.group(1).decode() if found else "")
        return "250 Message accepted for delivery"


@contextmanager
def smtp_sink(port: int) -> Iterator[list[str]]:
    """Run the server in a child process; the list it yields is filled when the block ends."""
    import subprocess
    from pathlib import Path

    received: list[str] = []
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__)), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP server did not start")
        yield received
    finally:
        child.stdin.close()
        output = child.stdout.read()
        child.wait(timeout=30)
    received.extend(json.loads(output))


def main() -> None:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark closes it
    controller.stop()
    print(json.dumps(inbox.ids), flush=True)


if __name__ == "__main__":
    main()
