"""Browsers report what the Content-Security-Policy stopped, and it is logged
(core/csp_reports.py, ASVS 3.4.7). In Chromium: tests/browser/test_csp_reports_browser.py."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.core.csp_reports import REPORT_MAX_BYTES
from tests.test_framing import policy

LOGGER = "clinicportal.core.csp_reports"
REPORT = {
    "csp-report": {
        "document-uri": "https://portal.example.org/office/patients/?s=3f1c9a&x=1#top",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "blocked-uri": "inline",
        "source-file": "https://portal.example.org/static/clinicportal/app.js?v=2",
        "line-number": 12,
    }
}


def post(client: Client, body: object, content_type: str = "application/csp-report"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/csp-report", data, content_type=content_type)


def test_every_page_s_policy_names_where_to_report(alice_client: Client, ada_portal: Client):
    for response in (
        alice_client.get(reverse("office:patients")),
        ada_portal.get("/p/clinic-x/records/"),
    ):
        assert policy(response)["report-uri"] == "/csp-report"


def test_a_report_is_logged_without_query_strings_and_sets_nothing(
    client: Client, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        response = post(client, REPORT)
    assert response.status_code == 204
    assert not response.cookies
    (line,) = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert line == (
        "content security policy violation: script-src-elem blocked inline on "
        "https://portal.example.org/office/patients/ "
        "(https://portal.example.org/static/clinicportal/app.js line 12)"
    )
    assert "3f1c9a" not in caplog.text


def test_the_reporting_api_s_reports_are_logged_too(
    client: Client, caplog: pytest.LogCaptureFixture
):
    reports = [
        {
            "type": "csp-violation",
            "body": {
                "documentURL": "https://portal.example.org/p/clinic-x/records/",
                "effectiveDirective": "img-src",
                "blockedURL": "https://elsewhere.example.com/pixel.gif?who=ada",
            },
        }
    ]
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert post(client, reports * 30, "application/reports+json").status_code == 204
    (line,) = [r.getMessage() for r in caplog.records if r.name == LOGGER]  # one a request
    assert (
        "img-src blocked https://elsewhere.example.com/pixel.gif on "
        "https://portal.example.org/p/clinic-x/records/"
    ) in line
    assert line.endswith(", and 29 more")
    assert "who=ada" not in caplog.text


def test_a_link_s_token_in_a_reported_address_is_masked(
    client: Client, caplog: pytest.LogCaptureFixture
):
    token = "Zk3Qy9vR2pL8sT4wX1aB6cD0eF5gH7jK"
    page = f"https://portal.example.org/p/clinic-x/password/{token}/"
    report = {"csp-report": {"document-uri": page, "blocked-uri": "inline"}}
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert post(client, report).status_code == 204
    assert token not in caplog.text
    assert "on https://portal.example.org/p/clinic-x/password/[hidden]/" in caplog.text


def test_what_is_not_a_report_is_refused_and_not_logged(
    client: Client, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert post(client, b"{not json").status_code == 400
        assert post(client, {"something": "else"}).status_code == 400
        assert post(client, [1, 2]).status_code == 400
        assert post(client, "[" * (REPORT_MAX_BYTES - 1)).status_code == 400  # too deep for json
        too_big = {"csp-report": {"blocked-uri": "x" * REPORT_MAX_BYTES}}
        assert post(client, too_big).status_code == 413
        assert client.get("/csp-report").status_code == 405
    assert not [r for r in caplog.records if r.name == LOGGER]


def test_a_report_s_fields_are_cut_short_and_kept_on_one_line(
    client: Client, caplog: pytest.LogCaptureFixture
):
    hostile = {"csp-report": {"blocked-uri": "inline\nFAKE LINE" + "y" * 500}}
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert post(client, hostile).status_code == 204
    (line,) = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert "\n" not in line
    assert "inlineFAKE LINE" in line and "y" * 201 not in line


def test_the_office_s_own_host_takes_its_pages_reports(
    client: Client, settings, caplog: pytest.LogCaptureFixture
):
    settings.CLINICPORTAL_OFFICE_URL = "https://office.example.org"
    settings.CLINICPORTAL_BASE_URL = "https://portal.example.org"
    settings.ALLOWED_HOSTS = ["office.example.org", "portal.example.org"]
    for host in ("office.example.org", "portal.example.org"):
        answer = client.post(
            "/csp-report",
            json.dumps(REPORT),
            content_type="application/csp-report",
            headers={"host": host},
            secure=True,
        )
        assert answer.status_code == 204, host
