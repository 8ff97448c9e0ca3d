"""A local HTTP server that answers like MedlinePlus's health topic search service.

Responses (tests/data/medlineplus/) follow the service's documented XML (nlmSearchResult → list →
document, with ``content`` fields whose HTML is escaped), so the real client meets the real format.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.local_server import LocalServer, QuietHandler

DATA = Path(__file__).parent / "data" / "medlineplus"
GLAUCOMA_XML = (DATA / "glaucoma.xml").read_bytes()  # three topics, one not on MedlinePlus
EMPTY_XML = (DATA / "empty.xml").read_bytes()


class FakeMedlinePlus(LocalServer):
    """Serves GLAUCOMA_XML for any term but "zzzz"; ``mode`` switches to failures."""

    def __init__(self) -> None:
        self.mode = "ok"  # or "error" (HTTP 500), "html" (not the service's XML), "slow"
        self.queries: list[dict[str, list[str]]] = []
        fake = self

        class Handler(QuietHandler):
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

        super().__init__(Handler, "/ws/query")
