"""Turning two-step sign-in on and off, and new recovery codes: the password and a code first,
the account's other sessions end, and every refusal is recorded."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.accounts import totp
from clinicportal.accounts.models import RecoveryCode, TwoFactorDevice
from clinicportal.audit.models import AuditEvent
from tests.conftest import (
    NEW_PASSWORD,
    PASSWORD,
    authenticator_code,
    enrol_authenticator,
    login,
    portal_login,
)
from tests.test_two_factor import a_step_later, current_code, turn_on

PORTAL_SETUP = "/p/clinic-x/account/two-step/"
PORTAL_OFF = "/p/clinic-x/account/two-step/off/"
PORTAL_CODES = "/p/clinic-x/account/recovery-codes/"


def start(client: Client, url: str) -> str:
    page = client.post(url, {"action": "start"}, follow=True).content.decode()
    found = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert found is not None
    return found.group(1)


def portal_signed_in(client: Client) -> bool:
    return client.get("/p/clinic-x/logs/").status_code == 200


def actions(**filters: object) -> list[str]:
    return list(AuditEvent.objects.filter(**filters).values_list("action", flat=True))


# The portal


def test_turning_on_asks_for_the_password_and_ends_the_other_sessions(
    ada_portal, practice_x, patient_a
):
    other = Client()
    portal_login(other, practice_x, "ada", NEW_PASSWORD)
    assert portal_signed_in(other)
    secret = start(ada_portal, PORTAL_SETUP)
    wrong = ada_portal.post(PORTAL_SETUP, {"code": current_code(secret), "password": "wrong"})
    assert "That is not your current password." in wrong.content.decode()
    missing = ada_portal.post(PORTAL_SETUP, {"code": current_code(secret)})
    assert "This field is required." in missing.content.decode()
    bad_code = ada_portal.post(PORTAL_SETUP, {"code": "000000", "password": NEW_PASSWORD})
    assert "That code did not work." in bad_code.content.decode()
    assert not TwoFactorDevice.objects.filter(confirmed_at__isnull=False).exists()
    assert portal_signed_in(other)
    assert actions(patient=patient_a, action__in=["portal.password_check_failed"]) == [
        "portal.password_check_failed"
    ]
    assert actions(patient=patient_a, action="portal.code_failed") == ["portal.code_failed"]

    done = ada_portal.post(PORTAL_SETUP, {"code": current_code(secret), "password": NEW_PASSWORD})
    assert "Your recovery codes" in done.content.decode()
    assert TwoFactorDevice.objects.filter(confirmed_at__isnull=False).exists()
    assert portal_signed_in(ada_portal)
    assert not portal_signed_in(other)


def test_turning_off_asks_for_the_password_and_a_code_and_ends_the_other_sessions(
    ada_portal, practice_x, patient_a
):
    secret, codes = turn_on(ada_portal)
    other = Client()
    portal_login(other, practice_x, "ada", NEW_PASSWORD)
    other.post("/p/clinic-x/login/code/", {"code": codes[0]})
    assert portal_signed_in(other)
    a_step_later()
    for password, code, message in (
        ("wrong", current_code(secret), "That is not your current password."),
        (NEW_PASSWORD, "000000", "That code did not work."),
        (NEW_PASSWORD, "", "This field is required."),
    ):
        page = ada_portal.post(PORTAL_OFF, {"off-password": password, "off-code": code})
        assert page.status_code == 200 and message in page.content.decode()
        assert TwoFactorDevice.objects.filter(confirmed_at__isnull=False).exists()
    assert portal_signed_in(other)
    assert "portal.code_failed" in actions(patient=patient_a)
    assert "portal.password_check_failed" in actions(patient=patient_a)

    done = ada_portal.post(PORTAL_OFF, {"off-password": NEW_PASSWORD, "off-code": codes[1]})
    assert done.status_code == 302
    assert not TwoFactorDevice.objects.exists()
    assert portal_signed_in(ada_portal)
    assert not portal_signed_in(other)
    assert {"portal.two_factor_off", "portal.recovery_code_used"} <= set(actions(patient=patient_a))


def test_new_recovery_codes_replace_the_old_ones_and_end_the_other_sessions(
    ada_portal, practice_x, patient_a
):
    secret, old = turn_on(ada_portal)
    other = Client()  # someone who had one of the old codes
    portal_login(other, practice_x, "ada", NEW_PASSWORD)
    other.post("/p/clinic-x/login/code/", {"code": old[0]})
    assert portal_signed_in(other)
    a_step_later()
    page = ada_portal.get("/p/clinic-x/account/").content.decode()
    assert "You have 9 unused recovery codes." in page  # the other device used one
    refused = ada_portal.post(
        PORTAL_CODES, {"codes-password": "wrong", "codes-code": current_code(secret)}
    )
    assert "That is not your current password." in refused.content.decode()
    response = ada_portal.post(
        PORTAL_CODES, {"codes-password": NEW_PASSWORD, "codes-code": current_code(secret)}
    )
    new = re.findall(r"<li><code>([0-9A-Z-]+)</code></li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert "The old ones no longer work, and your other devices are signed out." in (
        response.content.decode()
    )
    assert "portal.recovery_codes_renewed" in actions(patient=patient_a)
    assert portal_signed_in(ada_portal)
    assert not portal_signed_in(other)
    visitor = Client()
    portal_login(visitor, practice_x, "ada", NEW_PASSWORD)
    assert visitor.post("/p/clinic-x/login/code/", {"code": old[2]}).status_code == 200
    assert visitor.post("/p/clinic-x/login/code/", {"code": new[2]}).status_code == 302
    assert (
        actions(patient=patient_a, action="portal.recovery_code_used")
        == ["portal.recovery_code_used"] * 2
    )


def test_the_account_page_says_when_no_recovery_codes_are_left(ada_portal):
    turn_on(ada_portal)
    RecoveryCode.objects.all().delete()  # as the migration that retired the short ones does
    page = ada_portal.get("/p/clinic-x/account/").content.decode()
    assert "You have no recovery codes left" in page and "Make new recovery codes" in page


def test_a_portal_lockout_is_recorded_in_the_logs(ada_portal, practice_x, patient_a):
    visitor = Client()
    for _ in range(6):
        portal_login(visitor, practice_x, "ada", "wrong")
    assert "portal.locked_out" in actions(patient=patient_a)
    assert "Sign-in refused while paused" in ada_portal.get("/p/clinic-x/logs/").content.decode()


# The office


def office_signed_in(client: Client) -> bool:
    return client.get(reverse("office:patients")).status_code == 200


def test_staff_turning_on_asks_for_the_password_and_ends_the_other_sessions(bob_client, bob):
    other = login(Client(), bob)
    assert office_signed_in(other)
    url = reverse("office:account_two_factor")
    secret = start(bob_client, url)
    code = totp.code_at(secret, totp.current_step())
    wrong = bob_client.post(url, {"code": code, "password": "wrong"})
    assert "That is not your current password." in wrong.content.decode()
    bad_code = bob_client.post(url, {"code": "000000", "password": PASSWORD})
    assert "That code did not work." in bad_code.content.decode()
    assert not TwoFactorDevice.objects.filter(confirmed_at__isnull=False).exists()
    assert office_signed_in(other)
    assert {"staff.password_check_failed", "staff.code_failed"} <= set(actions(actor_user=bob.user))

    done = bob_client.post(url, {"code": code, "password": PASSWORD})
    assert "Your recovery codes" in done.content.decode()
    assert office_signed_in(bob_client)
    assert not office_signed_in(other)
    assert "staff.two_factor_on" in actions(actor_user=bob.user)


def test_the_service_refuses_to_turn_staff_two_step_off(bob):
    """The office page has no form for it; the service refuses it too, for every staff member."""
    from django.core.exceptions import ValidationError

    from clinicportal.accounts.services.two_step import two_factor_turn_off
    from clinicportal.core.context import StaffActor

    enrol_authenticator(bob)
    actor = StaffActor(user=bob.user, staff=bob, ip="127.0.0.1", user_agent="test")
    with pytest.raises(ValidationError, match=r"Staff must keep two-step sign-in on\."):
        two_factor_turn_off(
            actor=actor, password=PASSWORD, code=authenticator_code(), session_key=""
        )
    assert TwoFactorDevice.objects.filter(user=bob.user).exists()
    assert "staff.two_factor_off" not in actions(actor_user=bob.user)


def test_staff_make_new_recovery_codes_and_use_one_to_sign_in(alice_client, alice):
    enrol_authenticator(alice)
    url = reverse("office:account_recovery_codes")
    assert (
        "You have no recovery codes left"
        in alice_client.get(reverse("office:account")).content.decode()
    )
    refused = alice_client.post(url, {"codes-password": PASSWORD, "codes-code": "000000"})
    assert "That code did not work." in refused.content.decode()
    assert not RecoveryCode.objects.exists()
    elsewhere = login(Client(), alice)
    assert elsewhere.get(reverse("office:account")).status_code == 200
    response = alice_client.post(
        url, {"codes-password": PASSWORD, "codes-code": authenticator_code()}
    )
    codes = re.findall(r"<li><code>([0-9A-Z-]+)</code></li>", response.content.decode())
    assert len(codes) == 10
    assert "staff.recovery_codes_renewed" in actions(actor_user=alice.user)
    assert alice_client.get(reverse("office:account")).status_code == 200
    assert elsewhere.get(reverse("office:account")).status_code == 302  # signed out
    visitor = Client()
    visitor.post(reverse("office:login"), {"username": "alice", "password": PASSWORD})
    right = visitor.post(reverse("office:login_code"), {"code": codes[0].lower()})
    assert right["Location"] == reverse("office:home")
    used = AuditEvent.objects.get(action="staff.recovery_code_used")
    assert (used.actor_user, used.practice) == (alice.user, alice.practice)
