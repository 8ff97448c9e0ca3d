"""Sessions at both doors: an absolute lifetime, the lists of signed-in devices, ending them.

OWASP ASVS 5.0, chapter 7 (session management).
"""

from __future__ import annotations

import time

import pytest
from django.test import Client

from clinicportal.core import session_state
from clinicportal.core.session_state import ABSOLUTE_LIFETIME
from clinicportal.portal import auth as portal_auth
from tests.conftest import NEW_PASSWORD, portal_login

AGO = 10 * 60


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
