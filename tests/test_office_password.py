"""Staff change their own office password from My account; other sessions end."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from clinicportal.accounts.models import LoginFailure, User
from clinicportal.audit.models import AuditEvent
from tests.conftest import PASSWORD, office_sign_in

NEW = "lantern-orchard-velvet-93"
URL = reverse("office:account_password")


def change(client: Client, current: str = PASSWORD, new: str = NEW, again: str | None = None):
    return client.post(
        URL,
        {
            "current_password": current,
            "new_password": new,
            "confirm_password": new if again is None else again,
        },
    )


def test_my_account_has_the_password_form(bob_client):
    page = bob_client.get(reverse("office:account")).content.decode()
    assert f'action="{URL}"' in page
    for field in ("current_password", "new_password", "confirm_password"):
        assert f'name="{field}"' in page
    assert f'href="{reverse("office:account")}"' in page  # from every page's header


def test_staff_change_their_password_and_their_other_sessions_end(bob):
    here, elsewhere = Client(), Client()
    office_sign_in(here, bob)
    office_sign_in(elsewhere, bob)
    assert elsewhere.get(reverse("office:patients")).status_code == 200
    response = change(here)
    assert response["Location"] == reverse("office:account")
    assert "Your password is changed." in here.get(reverse("office:account")).content.decode()
    assert here.get(reverse("office:patients")).status_code == 200  # this session goes on
    assert elsewhere.get(reverse("office:patients"))["Location"].startswith("/office/login/")
    user = User.objects.get(pk=bob.user.pk)
    assert user.check_password(NEW) and not user.check_password(PASSWORD)
    assert user.password.startswith("argon2$argon2id$")
    event = AuditEvent.objects.get(action=AuditEvent.Action.STAFF_PASSWORD_CHANGED)
    assert (event.actor_user, event.practice, event.object_id) == (
        bob.user,
        bob.practice,
        str(bob.user.pk),
    )
    assert office_sign_in(Client(), bob, NEW)["Location"] == reverse("office:home")


def test_a_wrong_current_password_changes_nothing_and_counts_toward_the_lockout(bob):
    here, elsewhere = Client(), Client()
    office_sign_in(here, bob)
    office_sign_in(elsewhere, bob)
    before = User.objects.get(pk=bob.user.pk).password
    response = change(here, current="not-my-password")
    assert response.status_code == 200
    assert "That is not your current password." in response.content.decode()
    assert User.objects.get(pk=bob.user.pk).password == before
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.STAFF_PASSWORD_CHANGED).exists()
    assert LoginFailure.objects.filter(door="office", username_key="bob").count() == 1
    assert elsewhere.get(reverse("office:patients")).status_code == 200


def test_a_new_password_the_validators_refuse_changes_nothing(bob_client, bob):
    before = User.objects.get(pk=bob.user.pk).password
    cases = {
        "short-1": "This password is too short.",
        "password1234": "This password is too common.",
        "bob@example.com": "too similar",
        PASSWORD: "Please choose a password different from the current one.",
    }
    for new, message in cases.items():
        response = change(bob_client, new=new)
        assert response.status_code == 200
        assert message in response.content.decode(), new
    mismatch = change(bob_client, again="something-else-entirely")
    assert "The two passwords do not match." in mismatch.content.decode()
    assert User.objects.get(pk=bob.user.pk).password == before
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.STAFF_PASSWORD_CHANGED).exists()
    assert not LoginFailure.objects.exists()  # the current password was right every time


def test_the_password_page_needs_sign_in_and_a_post_to_change(client, bob_client, bob):
    assert client.get(URL)["Location"].startswith("/office/login/")
    assert change(client).status_code == 302
    before = User.objects.get(pk=bob.user.pk).password
    assert bob_client.get(URL).status_code == 200
    assert User.objects.get(pk=bob.user.pk).password == before
