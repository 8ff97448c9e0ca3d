"""A local HTTP server that answers like the Pwned Passwords range API.

``GET /range/<5 hex>`` gives the suffixes (the other 35 characters of an upper-case SHA-1) of
the known passwords under that prefix, one ``SUFFIX:COUNT`` a line. With ``Add-Padding: true``
it adds made-up suffixes seen 0 times, as the real service does, and one of them can be made
the suffix of a password that is not breached (``padding_for``), as a real answer might have.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

from tests.local_server import LocalServer, QuietHandler


def sha1(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


class FakePwnedPasswords(LocalServer):
    """Knows ``breached`` (password → times seen); ``mode`` switches to failures."""

    def __init__(self, breached: dict[str, int], padding_for: tuple[str, ...] = ()) -> None:
        self.mode = "ok"  # or "error" (HTTP 500), "html" (not a range), "slow", "drip"
        self.requests: list[tuple[str, str | None]] = []  # (path, Add-Padding header)
        self.cut_off = threading.Event()  # set when the client hung up mid-answer
        self.hashes = {sha1(password): count for password, count in breached.items()}
        self.padded = {sha1(password) for password in padding_for}
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                fake.requests.append((self.path, self.headers.get("Add-Padding")))
                prefix = self.path.removeprefix("/range/")
                if fake.mode == "error" or len(prefix) != 5:
                    self.send_error(500)
                    return
                if fake.mode == "slow":
                    time.sleep(3)
                if fake.mode == "html":
                    body = b"<html><body>Please sign in to the network</body></html>"
                else:
                    lines = [
                        f"{full[5:]}:{count}"
                        for full, count in fake.hashes.items()
                        if full.startswith(prefix)
                    ]
                    if self.headers.get("Add-Padding") == "true":
                        lines += [
                            f"{full[5:]}:0" for full in fake.padded if full.startswith(prefix)
                        ]
                        lines += [f"{secrets.token_hex(18)[:35].upper()}:0" for _ in range(20)]
                    body = "\r\n".join(lines).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if fake.mode != "drip":
                    self.wfile.write(body)
                    return
                try:  # a byte at a time: each read is quick, the whole is not
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.05)
                except OSError:
                    fake.cut_off.set()

        super().__init__(Handler, "/range/")
