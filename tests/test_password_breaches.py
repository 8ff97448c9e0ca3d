"""A new password seen in a breach elsewhere is refused (ASVS 6.2.12), through a local server
that speaks the Pwned Passwords range API; a service that cannot answer stops no one."""

from __future__ import annotations

import datetime
import io
import logging

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.accounts.models import User
from clinicportal.accounts.password_breaches import times_breached
from tests.conftest import NEW_PASSWORD, PASSWORD, free_port, portal_login
from tests.pwned_server import FakePwnedPasswords, sha1

BREACHED = "purple-monkey-dishwasher-1"  # long enough, not common: only the breach refuses it
FRESH = "quiet-harbor-lantern-beacon"
HOUR = datetime.timedelta(hours=1)
REFUSED = "has appeared in data breaches elsewhere (12,345 times)"


@pytest.fixture
def pwned(settings):
    with FakePwnedPasswords({BREACHED: 12_345}, padding_for=(FRESH,)) as fake:
        settings.CLINICPORTAL_BREACHED_PASSWORDS_URL = fake.url
        settings.CLINICPORTAL_BREACHED_PASSWORDS_TIMEOUT = 1
        yield fake


def change(client: Client, new: str) -> str:
    return client.post(
        "/p/clinic-x/account/",
        {"current_password": NEW_PASSWORD, "new_password": new, "confirm_password": new},
    ).content.decode()


def test_a_breached_password_is_refused_and_only_five_characters_of_its_hash_are_sent(
    pwned, ada_portal, practice_x
):
    pwned.requests.clear()  # the fixtures' own passwords were checked too
    assert REFUSED in change(ada_portal, BREACHED)
    assert portal_login(Client(), practice_x, "ada", NEW_PASSWORD).status_code == 302
    assert pwned.requests == [(f"/range/{sha1(BREACHED)[:5]}", "true")]  # padded, k-anonymous


def test_a_password_not_in_the_range_is_taken_even_on_a_line_of_padding(
    pwned, ada_portal, practice_x
):
    assert times_breached(FRESH) == 0  # its suffix is in the answer, seen 0 times
    assert "Your password is changed" in change(ada_portal, FRESH)
    assert portal_login(Client(), practice_x, "ada", FRESH).status_code == 302


def test_staff_passwords_are_checked_too(pwned, bob_client, bob):
    before = User.objects.get(pk=bob.user.pk).password
    response = bob_client.post(
        reverse("office:account_password"),
        {"current_password": PASSWORD, "new_password": BREACHED, "confirm_password": BREACHED},
    )
    assert REFUSED in response.content.decode()
    assert User.objects.get(pk=bob.user.pk).password == before


@pytest.mark.parametrize("mode", ["error", "html", "slow", "drip", "down"])
def test_a_service_that_cannot_answer_stops_no_one_and_is_logged(
    pwned, settings, ada_portal, practice_x, caplog, mode
):
    """Among them "drip": the answer, naming the password, comes a byte every 0.1 s, each read
    quick but the whole some seconds; waited for to the end, it would refuse the password."""
    pwned.mode = mode
    if mode == "down":
        settings.CLINICPORTAL_BREACHED_PASSWORDS_URL = f"http://127.0.0.1:{free_port()}/range/"
    with caplog.at_level(logging.WARNING, logger="clinicportal.accounts.password_breaches"):
        assert "Your password is changed" in change(ada_portal, BREACHED)
    assert "The breached-password check was skipped" in caplog.text
    if mode == "drip":
        assert pwned.cut_off.wait(timeout=10)  # given up on, the answer not yet at its end
    assert portal_login(Client(), practice_x, "ada", BREACHED).status_code == 302


def test_off_asks_nothing(pwned, settings, ada_portal):
    settings.CLINICPORTAL_BREACHED_PASSWORDS_URL = ""
    pwned.requests.clear()
    assert "Your password is changed" in change(ada_portal, BREACHED)
    assert pwned.requests == []


def test_the_setting_is_an_http_url_or_off(monkeypatch):
    from config.env import env_http_url_or_off

    default = "https://api.pwnedpasswords.com/range/"
    monkeypatch.delenv("CLINICPORTAL_BREACHED_PASSWORDS_URL", raising=False)
    assert env_http_url_or_off("CLINICPORTAL_BREACHED_PASSWORDS_URL", default) == default
    for off in ("off", " OFF "):
        monkeypatch.setenv("CLINICPORTAL_BREACHED_PASSWORDS_URL", off)
        assert env_http_url_or_off("CLINICPORTAL_BREACHED_PASSWORDS_URL", default) == ""
    mirror = "https://pwned.internal.example/range/"
    monkeypatch.setenv("CLINICPORTAL_BREACHED_PASSWORDS_URL", mirror)
    assert env_http_url_or_off("CLINICPORTAL_BREACHED_PASSWORDS_URL", default) == mirror


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_the_range_api_answers(
    pwned, monkeypatch, ada_portal, alice, patient_a, practice_x
):
    """The lookup may take seconds: on SQLite an open transaction holds the database's one
    write lock meanwhile. Every place a portal password is set asks before its writes."""
    from django.db import connection, transaction

    from clinicportal.accounts import password_breaches
    from clinicportal.accounts.models import PortalAccount, PortalLink
    from clinicportal.accounts.services.links import _link_create, portal_link_use
    from clinicportal.accounts.services.portal_access import (
        authorized_user_add,
        portal_access_issue,
    )
    from tests.conftest import actor

    in_transaction: list[bool] = []
    fetch = password_breaches.fetch

    def watched(url, **kwargs):
        in_transaction.append(connection.in_atomic_block)
        return fetch(url, **kwargs)

    monkeypatch.setattr(password_breaches, "fetch", watched)
    assert "Your password is changed" in change(ada_portal, FRESH)
    office = actor(alice)
    portal_access_issue(actor=office, patient=patient_a, username="ada", password=FRESH + "-2")
    authorized_user_add(
        actor=office,
        patient=patient_a,
        username="mary",
        password=FRESH + "-3",
        display_name="Mary Lovelace",
        note="mother",
    )
    with transaction.atomic():  # as the services that send a link make one
        token, _link = _link_create(
            PortalAccount.objects.get(username="mary"), PortalLink.Purpose.RESET, HOUR
        )
    portal_link_use(
        practice=practice_x, token=token, new_password=FRESH + "-4", ip=None, user_agent=""
    )
    assert len(in_transaction) == 4 and not any(in_transaction), in_transaction


def test_a_password_the_other_rules_refuse_is_not_sent_at_all(pwned, ada_portal, bob_client):
    """Not even its hash's first characters: the lookup is last, for passwords the rest took."""
    pwned.requests.clear()
    assert "too short" in change(ada_portal, "short-1")
    assert "mostly the practice" in change(ada_portal, "Patient-Portal-2026")
    staff = bob_client.post(
        reverse("office:account_password"),
        {"current_password": PASSWORD, "new_password": "short-2", "confirm_password": "short-2"},
    )
    assert "too short" in staff.content.decode()
    assert pwned.requests == []


def test_the_demo_asks_the_service_nothing(pwned, db):
    from django.core.management import call_command

    pwned.requests.clear()
    call_command("demo_load", stdout=io.StringIO())
    assert User.objects.filter(username="clearview.admin").exists()
    assert pwned.requests == []
