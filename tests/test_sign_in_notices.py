"""A portal account's owner is told by email when how they sign in changed (ASVS 6.3.7): a new
password (their first, their own, or the office's temporary one), two-step sign-in turned on
or off, new recovery codes. The email says what and when, and who to call; never a password,
code or link."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from clinicportal.accounts.models import PortalAccount
from clinicportal.accounts.services.portal_access import (
    portal_access_issue,
    portal_password_change,
)
from clinicportal.core.context import PortalActor
from clinicportal.notifications.models import OutboxEmail
from tests.conftest import (
    GUARDIAN_PASSWORD,
    NEW_PASSWORD,
    actor,
    add_guardian,
    portal_login,
    run_worker,
)
from tests.test_two_factor import a_step_later, current_code, turn_on
from tests.test_two_step_changes import PORTAL_CODES, PORTAL_OFF

CHANGED = "meadow-copper-lantern-77"


def notices(to: str = "ada@example.com") -> list[OutboxEmail]:
    return list(OutboxEmail.objects.filter(kind="sign_in_changed", to=to).order_by("pk"))


def subjects(to: str = "ada@example.com") -> list[str]:
    return [email.subject for email in notices(to)]


def change_password(client: Client, current: str, new: str):
    return client.post(
        "/p/clinic-x/account/",
        {"current_password": current, "new_password": new, "confirm_password": new},
    )


def test_the_first_password_and_each_change_are_told_with_when_and_who_to_call(
    client, practice_x, patient_a, issue_access
):
    username, temporary = issue_access(patient_a, "ada")
    assert not notices()  # the office's first issue is the office's to tell
    portal_login(client, practice_x, username, temporary)
    first = {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    assert client.post("/p/clinic-x/password/", first).status_code == 302
    assert subjects() == ["A password was chosen for your Clinic X Eye Care portal account"]
    assert "in place of the temporary one it was set up with" in notices()[0].body_text

    assert "Your password is changed" in change_password(client, NEW_PASSWORD, CHANGED).text
    assert subjects()[1:] == ["Your Clinic X Eye Care portal password was changed"]
    (told,) = notices()[1:]
    assert re.search(
        r"was changed on \w+day, \w+ \d+, \d{4} at \d+:\d\d [AP]M \w+\.", told.body_text
    )
    assert "Any other device signed in to the account was signed out." in told.body_text
    assert "please call the office at (207) 555-0100" in told.body_text
    assert "“Forgot your password?”" in told.body_html
    for secret in (CHANGED, NEW_PASSWORD, "/password/"):
        assert secret not in told.body_text + told.body_html


def test_a_first_password_another_post_chose_a_moment_ago_is_not_chosen_again(
    practice_x, patient_a, issue_access
):
    """Two posts of the first-password form at once (a double click, or a second device that
    signed in with the same temporary password): the second is decided on the locked row."""
    issue_access(patient_a, "ada")
    stale = PortalAccount.objects.get(username="ada")
    assert stale.password_is_temporary
    first = PortalActor(account=PortalAccount.objects.get(pk=stale.pk), patient=patient_a)
    portal_password_change(actor=first, current=None, new=NEW_PASSWORD, session_key="")
    with pytest.raises(ValidationError) as refused:
        portal_password_change(
            actor=PortalActor(account=stale, patient=patient_a),
            current=None,
            new=CHANGED,
            session_key="",
        )
    assert "current_password" in refused.value.message_dict
    assert len(notices()) == 1
    assert portal_login(Client(), practice_x, "ada", NEW_PASSWORD).status_code == 302


def test_a_refused_change_tells_nobody(ada_portal):
    before = len(notices())
    assert "not your current password" in change_password(ada_portal, "nope", CHANGED).text
    assert len(notices()) == before


def test_the_office_reissuing_access_is_told_but_not_its_first_issue(
    alice, patient_a, patient_b, ada_portal
):
    before = len(notices())
    portal_access_issue(actor=actor(alice), patient=patient_a, username="ada", password=None)
    assert subjects()[before:] == [
        "Clinic X Eye Care gave your portal account a new temporary password"
    ]
    assert "If you did not ask the office for this" in notices()[-1].body_text
    assert "username" not in notices()[-1].body_text
    portal_access_issue(actor=actor(alice), patient=patient_a, username="ada.l", password=None)
    renamed = notices()[-1].body_text
    assert "Its username was changed too." in renamed and "ada.l" not in renamed
    portal_access_issue(actor=actor(alice), patient=patient_b, username="blaise", password=None)
    assert not OutboxEmail.objects.filter(kind="sign_in_changed", to=patient_b.email).exists()


def test_two_step_on_off_and_new_recovery_codes_are_each_told(ada_portal):
    before = len(notices())
    secret, _codes = turn_on(ada_portal)
    a_step_later()
    renewed = ada_portal.post(
        PORTAL_CODES, {"codes-password": NEW_PASSWORD, "codes-code": current_code(secret)}
    )
    assert renewed.status_code == 200
    a_step_later()
    off = ada_portal.post(
        PORTAL_OFF, {"off-password": NEW_PASSWORD, "off-code": current_code(secret)}
    )
    assert off.status_code == 302
    assert "someone has your password and set up an authenticator of their own" in (
        notices()[before].body_text
    )
    assert subjects()[before:] == [
        "Two-step sign-in was turned on for your Clinic X Eye Care portal account",
        "New recovery codes were made for your Clinic X Eye Care portal account",
        "Two-step sign-in was turned off for your Clinic X Eye Care portal account",
    ]


def test_an_authorized_user_is_told_at_their_own_address(alice, practice_x, patient_a):
    mary = add_guardian(alice, patient_a)
    PortalAccount.objects.filter(pk=mary.account.pk).update(email="mary@example.com")
    client = Client()
    portal_login(client, practice_x, "mary", GUARDIAN_PASSWORD)
    assert change_password(client, GUARDIAN_PASSWORD, CHANGED).status_code == 200
    assert subjects("mary@example.com") == ["Your Clinic X Eye Care portal password was changed"]
    assert not notices("ada@example.com")


def test_a_login_without_an_address_changes_its_password_all_the_same(alice, practice_x, patient_a):
    add_guardian(alice, patient_a)  # no address of their own
    client = Client()
    portal_login(client, practice_x, "mary", GUARDIAN_PASSWORD)
    assert "Your password is changed" in change_password(client, GUARDIAN_PASSWORD, CHANGED).text
    assert not OutboxEmail.objects.filter(kind="sign_in_changed").exists()


@pytest.mark.django_db(transaction=True)
def test_the_notice_reaches_a_real_mail_server_in_text_and_html(
    ada_portal, email_settings, smtp_server
):
    change_password(ada_portal, NEW_PASSWORD, CHANGED)
    run_worker()
    told = [m for m in smtp_server.messages if "was changed" in m["Subject"]]
    assert [m["To"] for m in told] == ["ada@example.com"]
    parts = {
        part.get_content_type(): part.get_content()
        for part in told[0].walk()
        if not part.is_multipart()
    }
    assert "The password of your patient portal account at Clinic X Eye Care" in parts["text/plain"]
    assert "<p>" in parts["text/html"] and "Clinic X Eye Care" in parts["text/html"]
