"""A local HTTP server that answers like MedlinePlus's health topic search service.

Responses (tests/data/medlineplus/) follow the service's documented XML (nlmSearchResult → list →
document, with ``content`` fields whose HTML is escaped), so the real client meets the real format.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).parent / "data" / "medlineplus"
GLAUCOMA_XML = (DATA / "glaucoma.xml").read_bytes()  # three topics, one not on MedlinePlus
EMPTY_XML = (DATA / "empty.xml").read_bytes()


class FakeMedlinePlus:
    """Serves GLAUCOMA_XML for any term but "zzzz"; ``mode`` switches to failures."""

    def __init__(self) -> None:
        self.mode = "ok"  # or "error" (HTTP 500), "html" (not the service's XML), "slow"
        self.queries: list[dict[str, list[str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                fake.queries.append(query)
                if fake.mode == "error" or parts.path != "/ws/query":
                    self.send_error(500)
                    return
                if fake.mode == "html":
                    body = b"<html><body>Service maintenance</body></html>"
                elif query.get("term") == ["zzzz"]:
                    body = EMPTY_XML
                else:
                    body = GLAUCOMA_XML
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if fake.mode == "slow":  # a trickle: each read is quick, the whole is not
                    for start in range(0, len(body), 64):
                        self.wfile.write(body[start : start + 64])
                        self.wfile.flush()
                        time.sleep(0.05)
                    return
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ws/query"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeMedlinePlus:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
