"""A sign-in from a browser the account has not signed in from before is told to its owner
(ASVS 6.3.5), at both doors; one from a browser it knows tells nobody, and so does the first an
account makes (core/known_browser.py, accounts/services/browsers.py)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.accounts.models import PortalAccount
from clinicportal.accounts.services.browsers import KEPT, browser_remember
from clinicportal.core.known_browser import BROWSER_COOKIE_DAYS, browser_cookie_name
from clinicportal.notifications.models import OutboxEmail
from tests.conftest import NEW_PASSWORD, office_sign_in
from tests.test_sign_in_attempt_notices import WHEN

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
PORTAL_NEW = "Your Clinic X Eye Care portal account was signed in to from a new browser"
OFFICE_NEW = "Your Clinic X Eye Care office account was signed in to from a new browser"


def browser() -> Client:
    """A browser that opens the sign-in page before signing in, as people do."""
    client = Client(HTTP_USER_AGENT=FIREFOX)
    client.get("/p/clinic-x/login/")
    return client


def signed_in(client: Client) -> bool:
    answer = client.post("/p/clinic-x/login/", {"username": "ada", "password": NEW_PASSWORD})
    return answer.status_code == 302


def subjects(kind: str = "sign_in_attempt") -> list[str]:
    return list(
        OutboxEmail.objects.filter(kind=kind).order_by("pk").values_list("subject", flat=True)
    )


def test_the_sign_in_page_gives_a_browser_a_lasting_random_name(client, practice_x) -> None:
    answer = client.get("/p/clinic-x/login/")
    cookie = answer.cookies[browser_cookie_name()]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie.value)
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert int(cookie["max-age"]) == BROWSER_COOKIE_DAYS * 24 * 60 * 60
    again = client.get("/p/clinic-x/login/").cookies[browser_cookie_name()]
    assert again.value == cookie.value  # the same name, kept 400 days from now again
    assert int(again["max-age"]) == BROWSER_COOKIE_DAYS * 24 * 60 * 60
    assert Client().get("/p/clinic-x/login/").cookies[browser_cookie_name()].value != cookie.value


def test_the_browser_s_name_is_a_host_cookie_in_production(client, practice_x, settings) -> None:
    settings.SESSION_COOKIE_SECURE = True
    cookie = client.get("/p/clinic-x/login/", secure=True).cookies["__Host-browser"]
    assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]


def test_a_new_browser_is_told_and_a_known_one_is_not(ada_portal, practice_x) -> None:
    home, phone = browser(), browser()
    assert signed_in(home)
    assert not subjects()  # the first browser the account is seen in: nothing to compare with
    assert signed_in(home)
    assert not subjects()
    assert signed_in(phone)
    assert subjects() == [PORTAL_NEW]
    (told,) = OutboxEmail.objects.filter(kind="sign_in_attempt")
    assert re.search(
        rf"On {WHEN}, someone signed in to your patient portal account at Clinic X Eye Care "
        r"from a browser it had not been signed in from before \(Firefox on Linux\)\.",
        told.body_text,
    )
    assert "If this was you (a new phone or computer, another browser" in told.body_text
    assert "please choose a new one at once" in told.body_text
    assert signed_in(phone) and signed_in(home)  # both known now
    assert subjects() == [PORTAL_NEW]


def test_a_browser_that_sends_no_name_or_a_made_up_one_is_new_every_time(
    ada_portal, practice_x
) -> None:
    assert signed_in(browser())
    hidden = browser()
    hidden.cookies.pop(browser_cookie_name())
    assert signed_in(hidden)
    made_up = browser()
    made_up.cookies[browser_cookie_name()] = "not-a-name-we-gave"
    assert signed_in(made_up)
    assert subjects() == [PORTAL_NEW, PORTAL_NEW]
    assert len(PortalAccount.objects.get(username="ada").known_browsers) == 1


def test_a_first_sign_in_without_a_name_still_ends_the_first_sign_in(ada_portal) -> None:
    nameless = Client()  # posts the form without opening the page: no name yet
    assert signed_in(nameless)
    assert not subjects()
    nameless.cookies.pop(browser_cookie_name(), None)  # and refuses the one it was given
    assert signed_in(nameless)
    assert subjects() == [PORTAL_NEW]


def test_accounts_keep_their_own_browsers_and_only_the_most_recent(
    ada_portal, patient_b, issue_access
) -> None:
    account = PortalAccount.objects.get(username="ada")
    issue_access(patient_b, "ben")
    other = PortalAccount.objects.get(username="ben")
    tokens = [f"{number:043d}" for number in range(KEPT + 1)]
    assert browser_remember(account, tokens[0]) is False  # the first
    assert [browser_remember(account, token) for token in tokens[1:]] == [True] * KEPT
    assert browser_remember(account, tokens[-1]) is False
    assert browser_remember(account, tokens[1]) is False  # the oldest kept
    assert browser_remember(account, tokens[0]) is True  # the oldest went
    kept = PortalAccount.objects.get(pk=account.pk).known_browsers
    assert len(kept) == KEPT
    assert not any(token in str(kept) for token in tokens)  # hashes only
    assert browser_remember(other, tokens[0]) is False  # the first of his
    assert PortalAccount.objects.get(pk=other.pk).known_browsers[0] not in kept  # his own hash


@pytest.mark.django_db(transaction=True)
def test_staff_are_told_of_a_sign_in_from_a_new_browser(bob) -> None:
    own, other = (Client(HTTP_USER_AGENT=FIREFOX) for _ in range(2))
    for client in (own, other):
        client.get(reverse("office:login"))
    assert office_sign_in(own, bob).status_code == 302
    own.post(reverse("office:logout"))
    assert office_sign_in(own, bob).status_code == 302
    assert not subjects("staff_sign_in")
    assert office_sign_in(other, bob).status_code == 302
    assert subjects("staff_sign_in") == [OFFICE_NEW]
    told = OutboxEmail.objects.get(kind="staff_sign_in")
    assert "from a browser it had not been signed in from before (Firefox on Linux)" in (
        told.body_text
    )
    assert "someone has your password and your authenticator’s codes" in told.body_text
