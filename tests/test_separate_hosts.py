"""The office at a host of its own (ASVS 3.5.4): CLINICPORTAL_OFFICE_URL beside the portal's
CLINICPORTAL_BASE_URL. Each door answers only at its host; a GET at the other is sent over, a
form posted there is not found and changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from clinicportal.accounts.models import PortalSession
from clinicportal.audit.models import AuditEvent
from tests.conftest import NEW_PASSWORD, portal_login

OFFICE = "http://office.example.org"
PORTAL = "http://portal.example.org"


@pytest.fixture
def split(settings) -> None:
    settings.CLINICPORTAL_OFFICE_URL = OFFICE
    settings.CLINICPORTAL_BASE_URL = PORTAL
    hosts = ["office.example.org", "portal.example.org", "internal.example", "testserver"]
    settings.ALLOWED_HOSTS = hosts


def at(host: str) -> Client:
    return Client(HTTP_HOST=host.removeprefix("http://"))


def test_the_office_answers_at_its_host_and_sends_a_get_from_the_portals_over(
    split, alice, practice_x
) -> None:
    assert at(OFFICE).get("/office/login/").status_code == 200
    for host in (PORTAL, "http://internal.example"):
        answer = at(host).get("/office/patients/?page=2")
        assert answer.status_code == 302
        assert answer["Location"] == f"{OFFICE}/office/patients/?page=2"
    assert at(PORTAL).get("/office")["Location"] == f"{OFFICE}/office"
    assert at(OFFICE).get("/")["Location"] == f"{OFFICE}/office/"


def test_the_office_is_known_by_its_name_however_its_host_is_written(split, settings) -> None:
    settings.CLINICPORTAL_OFFICE_URL = f"{OFFICE}:80"  # the scheme's own port, written out
    for host in ("office.example.org", "OFFICE.example.org", "office.example.org.", f"{OFFICE}:80"):
        assert at(host).get("/office/login/").status_code == 200, host
        assert at(host).get("/p/clinic-x/login/").status_code == 302, host


def test_an_office_form_posted_at_the_portals_host_is_not_found_and_signs_no_one_in(
    split, alice
) -> None:
    events = AuditEvent.objects.count()
    client = at(PORTAL)
    answer = client.post("/office/login/", {"username": "alice", "password": "anything"})
    assert answer.status_code == 404
    assert AuditEvent.objects.count() == events  # not even a failed sign-in was recorded
    assert "sessionid" not in answer.cookies


def test_the_portal_answers_at_its_host_and_not_the_offices(
    split, practice_x, patient_a, ada_portal
) -> None:
    portal = f"/p/{practice_x.slug}/"
    assert at(PORTAL).get(f"{portal}login/").status_code == 200
    answer = at(OFFICE).get(f"{portal}login/?next=x")
    assert answer.status_code == 302
    assert answer["Location"] == f"{PORTAL}{portal}login/?next=x"

    sessions = PortalSession.objects.count()
    refused = portal_login(at(OFFICE), practice_x, "ada", NEW_PASSWORD)
    assert refused.status_code == 404
    assert PortalSession.objects.count() == sessions
    assert portal_login(at(PORTAL), practice_x, "ada", NEW_PASSWORD).status_code == 302
    assert PortalSession.objects.count() == sessions + 1


def test_the_api_is_the_offices_and_never_redirected_from_the_portals_host(split) -> None:
    """A program that followed a redirect would send its key again."""
    assert at(OFFICE).get("/api/v1/openapi.json").status_code == 200
    for answer in (
        at(PORTAL).get("/api/v1/openapi.json"),
        at(PORTAL).post("/api/v1/patients/x/portal-documents", {}),
    ):
        assert answer.status_code == 404
        assert answer["Content-Type"].startswith("application/")
        assert answer.json()


def test_answers_at_the_wrong_host_carry_the_sites_headers(split) -> None:
    for answer in (at(PORTAL).get("/office/login/"), at(PORTAL).post("/office/login/", {})):
        assert answer["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in answer["Content-Security-Policy"]


def test_the_health_checks_answer_at_every_host(split) -> None:
    for host in (OFFICE, PORTAL, "http://internal.example"):
        assert at(host).get("/healthz").status_code == 200


def test_the_api_address_staff_are_shown_is_the_offices(split, alice_client) -> None:
    alice_client.defaults["HTTP_HOST"] = "office.example.org"
    page = alice_client.post("/office/settings/api-keys/", {"name": "Reception printer"})
    assert page.status_code == 200
    assert f"export CLINICPORTAL_API_URL={OFFICE}" in page.text
    assert PORTAL not in page.text


def test_with_one_address_both_doors_answer_at_it(alice, practice_x) -> None:
    client = Client()
    assert client.get("/office/login/").status_code == 200
    assert client.get(f"/p/{practice_x.slug}/login/").status_code == 200
