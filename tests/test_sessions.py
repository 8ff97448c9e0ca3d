"""Sessions at both doors: an absolute lifetime, the lists of signed-in devices, ending them.

OWASP ASVS 5.0, chapter 7 (session management).
"""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.accounts.models import OfficeSession
from clinicportal.audit.models import AuditEvent
from clinicportal.core import session_state
from clinicportal.core.session_state import ABSOLUTE_LIFETIME
from clinicportal.portal import auth as portal_auth
from tests.conftest import NEW_PASSWORD, PASSWORD, portal_login

AGO = 10 * 60
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


class Clock:
    """time.time for session_state, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(session_state, "time", clock)
    return clock


def test_a_portal_session_cookie_keeps_the_expiry_of_its_sign_in(ada_portal, practice_x, clock):
    """Requests do not slide it: it ends 12 h after the sign-in, not 8 h after the last page."""
    client = Client()
    clock.now = time.time() - AGO  # signed in ten minutes ago
    portal_login(client, practice_x, "ada", NEW_PASSWORD)
    clock.now = time.time()  # a page now stamps its use and saves the session
    response = client.get("/p/clinic-x/records/")
    assert response.status_code == 200
    max_age = int(response.cookies["sessionid"]["max-age"])
    assert ABSOLUTE_LIFETIME - AGO - 5 < max_age <= ABSOLUTE_LIFETIME - AGO


def test_a_portal_session_past_its_lifetime_is_signed_out_though_in_use(ada_portal, clock):
    start = clock.now
    while clock.now < start + ABSOLUTE_LIFETIME - 10 * 60:
        clock.now += 10 * 60  # a page every ten minutes: never idle
        assert ada_portal.get("/p/clinic-x/records/").status_code == 200
    clock.now = start + ABSOLUTE_LIFETIME + 1
    assert ada_portal.get("/p/clinic-x/records/")["Location"] == "/p/clinic-x/login/"
    assert portal_auth.ACCOUNT not in ada_portal.session


def test_an_office_session_past_its_lifetime_is_signed_out_though_in_use(bob_client, bob, clock):
    start = clock.now
    while clock.now < start + ABSOLUTE_LIFETIME - 10 * 60:
        clock.now += 10 * 60  # a page every ten minutes: never idle
        assert bob_client.get("/office/patients/").status_code == 200
    clock.now = start + ABSOLUTE_LIFETIME + 1
    response = bob_client.get("/office/patients/")
    assert response["Location"].startswith("/office/login/?next=")
    assert "signed out after 12 hours" in bob_client.get(response["Location"]).content.decode()
    assert AuditEvent.objects.filter(action="staff.timed_out", actor_user=bob.user).exists()
    assert not OfficeSession.objects.filter(user=bob.user).exists()
    assert bob_client.get("/office/patients/").status_code == 302  # signed out for good


def test_an_office_session_cookie_keeps_the_expiry_of_its_sign_in(bob, clock):
    client = Client()
    clock.now = time.time() - AGO  # signed in ten minutes ago
    client.post(reverse("office:login"), {"username": "bob", "password": PASSWORD})
    clock.now = time.time()  # a page now stamps its use and saves the session
    response = client.get("/office/patients/")
    assert response.status_code == 200
    max_age = int(response.cookies["sessionid"]["max-age"])
    assert ABSOLUTE_LIFETIME - AGO - 5 < max_age <= ABSOLUTE_LIFETIME - AGO


def test_an_office_sign_in_makes_a_session_row_and_sign_out_deletes_it(bob, client):
    client.post(
        reverse("office:login"),
        {"username": "bob", "password": PASSWORD},
        headers={"user-agent": FIREFOX},
        REMOTE_ADDR="203.0.113.7",
    )
    row = OfficeSession.objects.get(user=bob.user)
    assert row.session_key == client.session.session_key
    assert (row.ip, row.user_agent) == ("203.0.113.7", FIREFOX)
    client.post(reverse("office:logout"))
    assert not OfficeSession.objects.exists()


def test_an_office_session_whose_row_is_gone_is_signed_out_at_once(bob_client):
    assert bob_client.get("/office/patients/").status_code == 200
    OfficeSession.objects.all().delete()
    response = bob_client.get("/office/patients/")
    assert response["Location"].startswith("/office/login/?next=")
    assert "_auth_user_id" not in bob_client.session
    assert "You were signed out." in bob_client.get(response["Location"]).content.decode()


def test_the_office_stamps_last_seen_at_most_once_a_minute(bob_client, clock):
    seen = OfficeSession.objects.get().last_seen_at
    clock.now += 30
    bob_client.get("/office/patients/")
    assert OfficeSession.objects.get().last_seen_at == seen
    clock.now += 31
    bob_client.get("/office/patients/")
    assert OfficeSession.objects.get().last_seen_at > seen
