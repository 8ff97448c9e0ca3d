"""Never doubled, setting up portal access: two set-ups posted at once, by one member of staff or
two, give one account and one slip, and its password works; a repeat shows the slip again only
briefly. The concurrency tests post from two real threads to the live server.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
import requests
from django.test import Client
from django.urls import reverse

from clinicportal.accounts.models import PortalAccount
from tests.conftest import actor, login, portal_login
from tests.races import at_once, hidden_fields, post_twice_at_once, signed_in

SLIP_PASSWORD = re.compile(r"data-slip-password>([^<]+)<")


def slip_password(html: str) -> str:
    found = SLIP_PASSWORD.search(html)
    assert found is not None, "no password slip on the page"
    return found.group(1)


def access_url(patient) -> str:
    return reverse("office:portal_access", args=[patient.public_id])


@pytest.mark.django_db(transaction=True)
def test_two_set_up_posts_at_once_show_one_slip_and_its_password_works(
    live_server, alice, patient_a, practice_x
):
    browser = signed_in(alice)
    url = live_server.url + access_url(patient_a)
    fields = hidden_fields(browser.get(url, timeout=30).text, 'name="username"')
    data = {**fields, "action": "issue", "username": "ada", "password": ""}
    first, second = post_twice_at_once(browser, url, data)
    assert (first.status_code, second.status_code) == (200, 200)
    password = slip_password(first.text)
    assert slip_password(second.text) == password
    assert PortalAccount.objects.count() == 1
    assert portal_login(Client(), practice_x, "ada", password).status_code == 302  # signed in


@pytest.mark.django_db(transaction=True)
def test_two_staff_setting_up_access_at_once_get_one_slip_and_a_way_to_reissue(
    live_server, alice, bob, patient_a, practice_x
):
    url = live_server.url + access_url(patient_a)

    def set_up(member) -> Callable[[], tuple[str, requests.Response]]:
        """Open the form now; send it when called."""
        browser = signed_in(member)
        fields = hidden_fields(browser.get(url, timeout=30).text, 'name="username"')
        data = {**fields, "action": "issue", "username": "ada", "password": ""}
        return lambda: (
            member.display_name,
            browser.post(url, data, allow_redirects=False, timeout=60),
        )

    answers = dict(at_once(set_up(alice), set_up(bob)))  # both forms open before either is sent
    by_status = {answer.status_code: answer for answer in answers.values()}
    assert sorted(by_status) == [200, 409]
    password = slip_password(by_status[200].text)
    told = by_status[409].text
    assert "Portal access was just set up for Ada" in told
    assert "Reissue it to get a new password slip." in told
    assert ">Reissue password</button>" in told and "data-slip-password" not in told
    winner = next(name for name, answer in answers.items() if answer.status_code == 200)
    assert f"by {winner} at" in told
    assert PortalAccount.objects.count() == 1
    assert portal_login(Client(), practice_x, "ada", password).status_code == 302


def test_a_repeat_shows_the_slip_again_only_briefly_and_in_the_same_session(
    alice_client, alice, patient_a
):
    import datetime

    from django.db import connection
    from django.utils import timezone

    from clinicportal.accounts.models import FormSubmission

    form = {"action": "issue", "username": "ada", "password": "", "submission": "tok3n"}
    password = slip_password(alice_client.post(access_url(patient_a), form).content.decode())
    with connection.cursor() as cursor:  # kept for a repeat, encrypted
        cursor.execute("SELECT private FROM accounts_formsubmission")
        (column,) = cursor.fetchone()
    assert column.startswith("fernet:") and password not in column
    again = alice_client.post(access_url(patient_a), form)
    assert slip_password(again.content.decode()) == password
    other_session = login(Client(), alice).post(access_url(patient_a), form, follow=True)
    assert "data-slip-password" not in other_session.content.decode()
    assert "Reissue the password for a new slip" in other_session.content.decode()
    FormSubmission.objects.update(private_until=timezone.now() - datetime.timedelta(seconds=1))
    late = alice_client.post(access_url(patient_a), form, follow=True).content.decode()
    assert "data-slip-password" not in late and "Reissue the password" in late
    assert FormSubmission.objects.get().private == ""  # wiped
    assert PortalAccount.objects.count() == 1


def test_an_authorized_user_added_twice_is_added_once_with_one_slip(alice_client, patient_a):
    url = reverse("office:authorized_user_add", args=[patient_a.public_id])
    fields = hidden_fields(alice_client.get(url).content.decode(), 'name="display_name"')
    form = {**fields, "display_name": "Mary Lovelace", "username": "mary", "password": ""}
    first = slip_password(alice_client.post(url, form).content.decode())
    assert slip_password(alice_client.post(url, form).content.decode()) == first
    assert PortalAccount.objects.filter(username="mary").count() == 1


def test_an_api_key_made_twice_is_made_once_and_never_kept(alice_client):
    from clinicportal.accounts.models import ApiKey, FormSubmission

    url = reverse("office:settings_api_keys")
    fields = hidden_fields(alice_client.get(url).content.decode(), 'name="name"')
    form = {**fields, "name": "Front desk printer"}
    first = alice_client.post(url, form).content.decode()
    assert "cpk_" in first
    again = alice_client.post(url, form, follow=True).content.decode()
    assert "was made and shown once" in again
    assert ApiKey.objects.count() == 1
    assert FormSubmission.objects.get().private == ""


def test_a_set_up_refused_by_the_unique_username_at_the_last_moment_says_so(bob_client, patient_a):
    """The database's unique username, hit after the service's own check: never a 500.

    A trigger raises the unique violation as a concurrent insert would; with another staff
    member's setup of this same patient, see the PostgreSQL test below.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER taken BEFORE INSERT ON accounts_portalaccount "
                "WHEN NEW.username_key = 'ada' BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint "
                "failed: accounts_portalaccount.practice_id, accounts_portalaccount.username_key');"
                " END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION taken() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.username_key = 'ada' THEN RAISE unique_violation USING MESSAGE = "
                "'duplicate key value violates unique constraint'; END IF; RETURN NEW; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER taken BEFORE INSERT ON accounts_portalaccount "
                "FOR EACH ROW EXECUTE FUNCTION taken()"
            )
    form = {"action": "issue", "username": "ada", "password": "", "setup": "1"}
    response = bob_client.post(access_url(patient_a), form)
    assert response.status_code == 200
    assert "This username was just taken in this practice" in response.content.decode()
    assert not PortalAccount.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_set_up_that_meets_the_other_between_its_checks_says_who_won(
    monkeypatch, alice, bob, patient_a
):
    """PostgreSQL: Bob's setup reads no grant for Ada; Alice's setup commits; Bob's username
    check then finds "ada" taken. Bob is told Ada's access was just set up, not that the
    username is taken (which CI once showed, the two forms posted at once)."""
    from django.db import connection

    from clinicportal.accounts.services import portal_access
    from clinicportal.accounts.services.portal_access import (
        PortalAccessJustSetUp,
        portal_access_issue,
    )

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers: SQLite takes one write transaction at a time")
    check = portal_access._username_free

    def after_alice_commits(*args, **kwargs):
        monkeypatch.setattr(portal_access, "_username_free", check)  # Alice's own is plain

        def alice_sets_up() -> None:
            try:
                portal_access_issue(
                    actor=actor(alice), patient=patient_a, username="ada", password=None
                )
            finally:
                connection.close()  # this thread's own connection

        other = threading.Thread(target=alice_sets_up)
        other.start()
        other.join()
        return check(*args, **kwargs)

    monkeypatch.setattr(portal_access, "_username_free", after_alice_commits)
    with pytest.raises(PortalAccessJustSetUp) as told:
        portal_access_issue(
            actor=actor(bob), patient=patient_a, username="ada", password=None, new_only=True
        )
    assert told.value.grant.account.username == "ada"
    assert PortalAccount.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_set_up_that_loses_the_race_on_the_unique_username_says_who_won(
    live_server, alice, bob, patient_a
):
    """PostgreSQL: Bob's setup passes its checks, then meets Alice's committed one."""
    import time

    from django.db import connection, transaction

    from clinicportal.accounts.services.portal_access import portal_access_issue

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers: SQLite takes one write transaction at a time")
    browser = signed_in(bob)
    url = live_server.url + access_url(patient_a)
    fields = hidden_fields(browser.get(url, timeout=30).text, 'name="username"')
    data = {**fields, "action": "issue", "username": "ada", "password": ""}
    answer: dict[str, requests.Response] = {}
    thread = threading.Thread(target=lambda: answer.update(bob=browser.post(url, data)))
    with transaction.atomic(), connection.cursor() as cursor:
        # Bob's checks read the table; his insert must wait until Alice's setup commits.
        cursor.execute("LOCK TABLE accounts_portalaccount IN SHARE ROW EXCLUSIVE MODE")
        thread.start()
        for _ in range(400):
            cursor.execute(
                "SELECT count(*) FROM pg_locks JOIN pg_class ON pg_class.oid = pg_locks.relation "
                "WHERE pg_class.relname = 'accounts_portalaccount' AND NOT pg_locks.granted"
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.05)
        else:
            pytest.fail("Bob's setup never reached its insert")
        portal_access_issue(actor=actor(alice), patient=patient_a, username="ada", password=None)
    thread.join()
    told = answer["bob"]
    assert told.status_code == 409
    assert "Portal access was just set up for Ada (by Alice at" in told.text
    assert PortalAccount.objects.count() == 1
