"""Two-step sign-in at the office door: required for admins, offered to staff."""

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
    assert "Practice admins must use two-step sign-in" in page
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


def test_staff_may_turn_two_step_on_and_off(bob_client, bob):
    assert sign_in(Client(), "bob").status_code == 302  # no code asked yet
    page = bob_client.post(
        reverse("office:account_two_factor"), {"action": "start"}, follow=True
    ).content.decode()
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)  # type: ignore[union-attr]
    bob_client.post(
        reverse("office:account_two_factor"),
        {"code": totp.code_at(secret, totp.current_step()), "password": PASSWORD},
    )
    assert TwoFactorDevice.objects.filter(user=bob.user, confirmed_at__isnull=False).exists()
    assert sign_in(Client(), "bob")["Location"] == reverse("office:login_code")
    TwoFactorDevice.objects.update(last_used_step=totp.current_step() - 1)
    code = totp.code_at(secret, totp.current_step())
    bob_client.post(reverse("office:account"), {"password": "wrong", "code": code})
    assert TwoFactorDevice.objects.filter(user=bob.user).exists()
    bob_client.post(reverse("office:account"), {"password": PASSWORD, "code": code})
    assert not TwoFactorDevice.objects.filter(user=bob.user).exists()


def test_admins_cannot_turn_two_step_off(alice_client, alice):
    enrol_authenticator(alice)
    page = alice_client.get(reverse("office:account")).content.decode()
    assert "Admins must keep it on." in page
    alice_client.post(
        reverse("office:account"), {"password": PASSWORD, "code": authenticator_code()}
    )
    assert TwoFactorDevice.objects.filter(user=alice.user).exists()


def test_my_account_needs_sign_in(client):
    assert client.get(reverse("office:account"))["Location"].startswith("/office/login/")


def test_guessing_the_password_to_turn_two_step_off_counts_toward_the_lockout(bob_client, bob):
    from clinicportal.accounts.throttle import LOCKED_MESSAGE, PER_USERNAME

    enrol_authenticator(bob)
    for _ in range(PER_USERNAME):
        wrong = bob_client.post(
            reverse("office:account"), {"password": "wrong", "code": authenticator_code()}
        )
        assert "That is not your current password" in wrong.content.decode()
    right = bob_client.post(
        reverse("office:account"), {"password": PASSWORD, "code": authenticator_code()}
    )
    assert LOCKED_MESSAGE in right.content.decode()
    assert TwoFactorDevice.objects.filter(user=bob.user).exists()
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
