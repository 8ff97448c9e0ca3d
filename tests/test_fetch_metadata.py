"""What another site's page makes a browser ask for is refused (core/fetch_metadata.py).

The headers are the ones browsers send (Fetch Metadata). A sibling host of the same site, such
as the portal's beside the office's, gets the session cookie sent with them: only the headers
tell its requests from the site's own.
"""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from clinicportal.audit.models import AuditEvent
from clinicportal.core.fetch_metadata import from_elsewhere_allowed
from clinicportal.messaging.models import Message
from clinicportal.records.models import PortalDocument
from tests.conftest import add_chart_pdf
from tests.test_portal_messages import send
from tests.test_records import share

RECORDS = "/p/clinic-x/records/"


def fetched(site: str, mode: str, dest: str) -> dict[str, str]:
    return {"Sec-Fetch-Site": site, "Sec-Fetch-Mode": mode, "Sec-Fetch-Dest": dest}


AS_A_PICTURE = fetched("same-site", "no-cors", "image")
LINK_FROM_ELSEWHERE = fetched("cross-site", "navigate", "document")
FORM_FROM_ELSEWHERE = fetched("same-site", "navigate", "document")
OWN_SCRIPT = fetched("same-origin", "cors", "empty")
TYPED = fetched("none", "navigate", "document")


@pytest.fixture
def record(bob, bob_client: Client, patient_a) -> PortalDocument:
    assert share(bob_client, patient_a, add_chart_pdf(bob, patient_a)).status_code == 302
    return PortalDocument.objects.get()


def opened() -> int:
    return AuditEvent.objects.filter(
        action__in=[
            AuditEvent.Action.PORTAL_DOCUMENT_VIEWED,
            AuditEvent.Action.PORTAL_DOCUMENT_DOWNLOADED,
        ]
    ).count()


def test_a_record_loaded_as_a_picture_by_another_page_is_refused_and_not_marked_read(
    ada_portal: Client, record: PortalDocument
) -> None:
    download = f"{RECORDS}{record.public_id}/download"
    response = ada_portal.get(download, headers=AS_A_PICTURE)
    assert response.status_code == 403
    assert b"%PDF" not in response.content
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert opened() == 0
    assert 'class="badge new"' in ada_portal.get(RECORDS).content.decode()  # still new to her
    # The same download from a page of the portal, or typed in, is hers.
    for headers in (fetched("same-origin", "navigate", "document"), TYPED):
        assert ada_portal.get(download, headers=headers).status_code == 200
    assert opened() == 2


def test_a_form_posted_from_another_page_is_refused_with_a_kind_page_and_writes_nothing(
    ada_portal: Client,
) -> None:
    response = send(ada_portal, headers=FORM_FROM_ELSEWHERE)
    assert response.status_code == 403
    page = response.content.decode()
    assert "This request came from another site" in page
    assert "open the page from the site’s own address" in page
    assert 'href="/p/clinic-x/"' in page  # a way back to her portal
    assert "default-src" in response["Content-Security-Policy"]
    assert not Message.objects.exists()
    # Sent from the portal's own page, the same form is taken.
    assert (
        send(ada_portal, headers=fetched("same-origin", "navigate", "document")).status_code == 302
    )
    assert Message.objects.exists()


def test_a_link_from_an_email_or_another_site_opens_the_page(ada_portal: Client) -> None:
    for headers in (LINK_FROM_ELSEWHERE, fetched("same-site", "navigate", "document"), TYPED):
        response = ada_portal.get(RECORDS, headers=headers)
        assert response.status_code == 200, headers
        assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    # ... but not inside another page's frame, <object> or <embed>.
    for dest in ("iframe", "object", "embed"):
        refused = ada_portal.get(RECORDS, headers=fetched("cross-site", "navigate", dest))
        assert refused.status_code == 403, dest


def test_an_office_page_fetched_by_a_script_of_another_origin_is_refused(
    bob_client: Client, patient_a
) -> None:
    chart = f"/office/patients/{patient_a.public_id}/"
    assert bob_client.get(chart, headers=fetched("same-site", "cors", "empty")).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PATIENT_VIEWED).exists()
    assert bob_client.get(chart, headers=OWN_SCRIPT).status_code == 200


def test_requests_without_fetch_metadata_pass_as_before(ada_portal: Client) -> None:
    # Older browsers, programs and the card processor's webhooks send none of the headers.
    assert ada_portal.get(RECORDS).status_code == 200
    assert send(ada_portal).status_code == 302


@pytest.mark.parametrize(
    ("method", "headers", "allowed"),
    [
        ("GET", {}, True),
        ("POST", {}, True),
        ("POST", OWN_SCRIPT, True),
        ("POST", fetched("none", "navigate", "document"), True),
        ("GET", LINK_FROM_ELSEWHERE, True),
        ("HEAD", LINK_FROM_ELSEWHERE, True),
        ("GET", fetched("same-site", "navigate", "iframe"), False),  # the view would run
        ("GET", fetched("cross-site", "navigate", "frame"), False),
        ("GET", {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, True),
        ("POST", LINK_FROM_ELSEWHERE, False),
        ("GET", fetched("cross-site", "no-cors", "script"), False),
        ("GET", fetched("same-site", "cors", "empty"), False),
        ("GET", fetched("cross-site", "navigate", "embed"), False),
        ("GET", {"Sec-Fetch-Site": "cross-site"}, False),  # no mode: not a navigation
    ],
)
def test_which_requests_from_elsewhere_are_answered(
    rf, method: str, headers: dict[str, str], allowed: bool
) -> None:
    request = rf.generic(method, "/", headers=headers)
    assert from_elsewhere_allowed(request) is allowed


def test_a_refusal_is_logged_with_the_headers_that_caused_it(
    ada_portal: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="clinicportal.core.fetch_metadata"):
        ada_portal.get(RECORDS, headers=fetched("same-site", "no-cors", "script"))
    assert "site same-site, mode no-cors, destination script" in caplog.text


def test_an_api_refusal_answers_in_json(client: Client) -> None:
    answer = client.get("/api/v1/openapi.json", headers=fetched("cross-site", "cors", "empty"))
    assert answer.status_code == 403
    assert answer.json() == {"error": "Forbidden."}
    assert client.get("/api/v1/openapi.json").status_code == 200
