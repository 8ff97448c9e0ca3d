"""Another page of the same site, in a real browser: Chromium sends the portal's session cookie
with what that page loads and posts, and only the Fetch Metadata headers tell it apart.

The other page is at another port of the live server's host (``localhost``): another origin,
but the same site, as the office's and the portal's hosts are when they share a domain.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.signals import request_started
from playwright.sync_api import expect

from clinicportal.messaging.models import Message
from clinicportal.records.models import PortalDocument
from tests.browser.test_portal_browser import ada_portal_user, portal_sign_in
from tests.conftest import NEW_PASSWORD, add_chart_pdf
from tests.test_fetch_metadata import opened
from tests.test_records import share

pytestmark = pytest.mark.browser


def other_page(portal: str, document: PortalDocument) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Another page</title></head>
<body><main><h1>Another page</h1>
<img id="record" alt="" src="{portal}records/{document.public_id}/download">
<iframe title="A record" src="{portal}records/{document.public_id}/view"></iframe>
<form method="post" action="{portal}messages/new/">
  <input type="hidden" name="category" value="refill">
  <input type="hidden" name="subject" value="Refill">
  <input type="hidden" name="body" value="Sent by another page">
  <button>Send</button>
</form></main></body></html>"""


def serve(html: str) -> str:
    """Serve ``html`` at another port of localhost, from a real server (a page the browser made
    up itself would count as a public address, from which it never loads localhost's)."""

    class OnePage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), OnePage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://localhost:{server.server_address[1]}"


@pytest.mark.usefixtures(ada_portal_user.__name__)
def test_another_page_of_the_site_cannot_open_a_record_or_post_a_form_with_her_session(
    page, axe, live_server, bob, bob_client, patient_a
):
    assert "//localhost:" in live_server.url
    assert share(bob_client, patient_a, add_chart_pdf(bob, patient_a)).status_code == 302
    document = PortalDocument.objects.get()
    portal = f"{live_server.url}/p/clinic-x/"
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)

    elsewhere = serve(other_page(portal, document))
    sent: list[dict[str, str]] = []  # what the live server was sent for the record

    def arrived(sender: object, environ: dict[str, str], **kwargs: object) -> None:
        if environ["PATH_INFO"].endswith(("/download", "/view")):
            sent.append(environ)

    request_started.connect(arrived)
    try:
        # The server refuses both (403). The browser, told Cross-Origin-Resource-Policy, keeps
        # even that answer from the picture: its load fails.
        with (
            page.expect_response(lambda answer: answer.url.endswith("/view")) as framed,
            page.expect_event("requestfailed", lambda request: "/download" in request.url),
        ):
            page.goto(f"{elsewhere}/")
    finally:
        request_started.disconnect(arrived)
    axe.check(page)
    assert framed.value.status == 403
    # The browser did send her session with both: the headers alone refused them.
    assert sorted(environ["HTTP_SEC_FETCH_DEST"] for environ in sent) == ["iframe", "image"]
    for environ in sent:
        assert "sessionid=" in environ["HTTP_COOKIE"]
        assert environ["HTTP_SEC_FETCH_SITE"] == "same-site"
    assert opened() == 0

    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="This request came from another site")).to_be_visible()
    axe.check(page)
    assert not Message.objects.exists()
    page.get_by_role("link", name="Go to your patient portal").click()
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    expect(page.get_by_text("New", exact=True)).to_be_visible()  # still unread
    axe.check(page)
