"""Two-step sign-in at the office door: required of every staff member, admin or not."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinicportal.accounts import totp
from clinicportal.accounts.models import TwoFactorDevice
from clinicportal.audit.models import AuditEvent
from tests.conftest import PASSWORD, authenticator_code, enrol_authenticator


def sign_in(client: Client, username: str):
    return client.post(reverse("office:login"), {"username": username, "password": PASSWORD})


def test_an_admin_without_an_authenticator_must_enrol_before_going_on(client, alice):
    response = sign_in(client, "alice")
    assert response["Location"] == reverse("office:login_setup")
    assert client.get(reverse("office:patients"))["Location"].startswith("/office/login/")
    page = client.get(reverse("office:login_setup")).content.decode()
    assert "Everyone on the office staff uses two-step sign-in" in page
    assert not TwoFactorDevice.objects.exists()  # looking changes nothing
    page = client.post(
        reverse("office:login_setup"), {"action": "start"}, follow=True
    ).content.decode()
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)  # type: ignore[union-attr]
    wrong = client.post(reverse("office:login_setup"), {"code": "000000"})
    assert "That code did not work." in wrong.content.decode()
    done = client.post(
        reverse("office:login_setup"), {"code": totp.code_at(secret, totp.current_step())}
    )
    assert len(re.findall(r"<li><code>", done.content.decode())) == 10
    assert client.get(reverse("office:patients")).status_code == 200
    assert AuditEvent.objects.filter(actor_user=alice.user, action="staff.two_factor_on").exists()
    assert AuditEvent.objects.filter(actor_user=alice.user, action="staff.login").exists()


def test_an_enrolled_admin_gives_a_code_after_the_password(client, alice):
    enrol_authenticator(alice)
    assert sign_in(client, "alice")["Location"] == reverse("office:login_code")
    assert client.get(reverse("office:patients")).status_code == 302
    wrong = client.post(reverse("office:login_code"), {"code": "000000"})
    assert "That code did not work." in wrong.content.decode()
    right = client.post(reverse("office:login_code"), {"code": authenticator_code()})
    assert right["Location"] == reverse("office:home")
    assert client.get(reverse("office:patients")).status_code == 200


def test_the_code_step_needs_a_password_first(client, alice):
    enrol_authenticator(alice)
    assert client.get(reverse("office:login_code"))["Location"] == reverse("office:login")
    assert client.get(reverse("office:login_setup"))["Location"] == reverse("office:login")


def test_staff_without_an_authenticator_must_enrol_before_going_on(client, bob):
    response = sign_in(client, "bob")
    assert response["Location"] == reverse("office:login_setup")
    for url in (reverse("office:patients"), reverse("office:account"), reverse("office:home")):
        assert client.get(url)["Location"].startswith("/office/login/")
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action="staff.login").exists()
    page = client.post(
        reverse("office:login_setup"), {"action": "start"}, follow=True
    ).content.decode()
    assert "Everyone on the office staff uses two-step sign-in" in page
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)  # type: ignore[union-attr]
    client.post(reverse("office:login_setup"), {"code": totp.code_at(secret, totp.current_step())})
    assert client.get(reverse("office:patients")).status_code == 200
    assert TwoFactorDevice.objects.filter(user=bob.user, confirmed_at__isnull=False).exists()
    assert AuditEvent.objects.filter(actor_user=bob.user, action="staff.login").exists()


def test_enrolled_staff_give_a_code_after_the_password(client, bob):
    enrol_authenticator(bob)
    assert sign_in(client, "bob")["Location"] == reverse("office:login_code")
    assert client.get(reverse("office:patients"))["Location"].startswith("/office/login/")
    wrong = client.post(reverse("office:login_code"), {"code": "000000"})
    assert "That code did not work." in wrong.content.decode()
    assert client.get(reverse("office:patients"))["Location"].startswith("/office/login/")
    right = client.post(reverse("office:login_code"), {"code": authenticator_code()})
    assert right["Location"] == reverse("office:home")
    assert client.get(reverse("office:patients")).status_code == 200


def test_staff_cannot_turn_two_step_off(bob_client, bob, alice_client, alice):
    enrol_authenticator(bob)
    enrol_authenticator(alice)
    for client in (bob_client, alice_client):
        page = client.get(reverse("office:account")).content.decode()
        assert "Turn off" not in page
        assert client.post(reverse("office:account"), {"password": PASSWORD}).status_code == 405
    assert TwoFactorDevice.objects.filter(user__in=[bob.user, alice.user]).count() == 2
    assert not AuditEvent.objects.filter(action="staff.two_factor_off").exists()


def test_my_account_needs_sign_in(client):
    assert client.get(reverse("office:account"))["Location"].startswith("/office/login/")


def test_guessing_the_password_to_renew_recovery_codes_counts_toward_the_lockout(bob_client, bob):
    from clinicportal.accounts.throttle import LOCKED_MESSAGE, PER_USERNAME

    enrol_authenticator(bob)
    url = reverse("office:account_recovery_codes")
    for _ in range(PER_USERNAME):
        wrong = bob_client.post(
            url, {"codes-password": "wrong", "codes-code": authenticator_code()}
        )
        assert "That is not your current password" in wrong.content.decode()
    right = bob_client.post(url, {"codes-password": PASSWORD, "codes-code": authenticator_code()})
    assert LOCKED_MESSAGE in right.content.decode()
    assert LOCKED_MESSAGE in sign_in(Client(), "bob").content.decode()


def test_the_setup_page_after_enrolling_elsewhere_goes_on_instead_of_failing(client, alice):
    sign_in(client, "alice")
    client.post(reverse("office:login_setup"), {"action": "start"})
    # Finished in another tab meanwhile.
    TwoFactorDevice.objects.filter(user=alice.user).update(confirmed_at=timezone.now())
    for method in ("get", "post"):
        response = getattr(client, method)(reverse("office:login_setup"))
        assert response.status_code == 302
        assert response["Location"] == reverse("office:login_code")


def test_a_right_password_does_not_forgive_wrong_codes_before_the_code_is_given(client, alice):
    """The count of failures clears when the sign-in completes, not at the password."""
    from clinicportal.accounts.throttle import LOCKED_MESSAGE, PER_USERNAME

    enrol_authenticator(alice)
    for _ in range(PER_USERNAME - 1):
        assert sign_in(client, "alice")["Location"] == reverse("office:login_code")
        client.post(reverse("office:login_code"), {"code": "000000"})
    assert sign_in(client, "alice")["Location"] == reverse("office:login_code")
    locked = client.post(reverse("office:login_code"), {"code": "000000"})
    assert "That code did not work." in locked.content.decode()
    paused = client.post(reverse("office:login_code"), {"code": authenticator_code()})
    assert LOCKED_MESSAGE in paused.content.decode()
    assert client.get(reverse("office:patients")).status_code == 302
    assert AuditEvent.objects.filter(
        action="staff.locked_out", object_id=str(alice.user.pk)
    ).exists()
