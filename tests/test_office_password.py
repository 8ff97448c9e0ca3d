"""Staff change their own office password from My account; other sessions end."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinicportal.accounts.models import LoginFailure, OfficeSession, User
from clinicportal.accounts.passwords import TEMPORARY_PASSWORD_LIFETIME
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
        "lantern " * 33: "Please use at most 256 characters.",  # 264: as at the portal
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


def test_the_first_admin_from_create_practice_must_choose_a_password_at_first_sign_in(db):
    import io
    import re

    from django.core.management import call_command

    from clinicportal.accounts import totp

    out = io.StringIO()
    call_command(
        "create_practice",
        *("--name", "Harbor Vision", "--slug", "harbor", "--admin-username", "hv.admin"),
        *("--admin-email", "admin@harbor.example", "--admin-name", "Hana Vu"),
        stdout=out,
    )
    temporary = out.getvalue().split("at first sign-in): ")[1].split()[0]
    expires = User.objects.get(username="hv.admin").temporary_password_expires_at
    assert expires is not None
    assert abs(expires - timezone.now() - TEMPORARY_PASSWORD_LIFETIME) < datetime.timedelta(
        minutes=1
    )
    client = Client()
    client.post(reverse("office:login"), {"username": "hv.admin", "password": temporary})
    page = client.post(
        reverse("office:login_setup"), {"action": "start"}, follow=True
    ).content.decode()
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)  # type: ignore[union-attr]
    client.post(reverse("office:login_setup"), {"code": totp.code_at(secret, totp.current_step())})
    for url in (reverse("office:patients"), reverse("office:account"), reverse("office:home")):
        assert client.get(url)["Location"] == URL
    forced = client.get(URL).content.decode()
    assert "Choose your own password" in forced and 'name="current_password"' not in forced
    done = client.post(URL, {"new_password": NEW, "confirm_password": NEW})
    assert done["Location"] == reverse("office:home")
    assert client.get(reverse("office:patients")).status_code == 200
    user = User.objects.get(username="hv.admin")
    assert not user.password_is_temporary and user.check_password(NEW)
    assert user.temporary_password_expires_at is None  # their own password does not expire
    assert AuditEvent.objects.filter(
        actor_user=user, action=AuditEvent.Action.STAFF_PASSWORD_CHANGED
    ).exists()


def test_a_temporary_password_opens_only_the_page_to_replace_it(bob_client, bob):
    User.objects.filter(pk=bob.user.pk).update(password_is_temporary=True)
    for url in (reverse("office:patients"), reverse("office:settings"), reverse("office:outbox")):
        assert bob_client.get(url)["Location"] == URL
    assert bob_client.post(reverse("office:patient_create"), {})["Location"] == URL
    for refused, message in (
        ({"new_password": "short-1", "confirm_password": "short-1"}, "too short"),
        ({"new_password": PASSWORD, "confirm_password": PASSWORD}, "different from the current"),
        ({"new_password": NEW, "confirm_password": NEW + "x"}, "do not match"),
    ):
        response = bob_client.post(URL, refused)
        assert response.status_code == 200 and message in response.content.decode()
    user = User.objects.get(pk=bob.user.pk)
    assert user.password_is_temporary and user.check_password(PASSWORD)
    assert bob_client.post(reverse("office:logout"))["Location"] == reverse("office:login")


def test_a_temporary_password_is_replaced_without_the_current_one_only_while_temporary(
    bob_client, bob
):
    response = bob_client.post(URL, {"new_password": NEW, "confirm_password": NEW})
    assert response.status_code == 200  # the current password is asked for
    assert User.objects.get(pk=bob.user.pk).check_password(PASSWORD)


def test_a_temporary_password_works_within_its_lifetime_and_leads_to_the_change_page(bob):
    soon = timezone.now() + datetime.timedelta(hours=1)
    User.objects.filter(pk=bob.user.pk).update(
        password_is_temporary=True, temporary_password_expires_at=soon
    )
    client = Client()
    assert office_sign_in(client, bob)["Location"] == reverse("office:home")
    assert client.get(reverse("office:home"))["Location"] == URL
    assert change(client, current="", new=NEW)["Location"] == reverse("office:home")
    user = User.objects.get(pk=bob.user.pk)
    assert user.check_password(NEW)
    assert not user.password_is_temporary and user.temporary_password_expires_at is None


def test_an_expired_temporary_password_is_refused_at_sign_in_and_changes_nothing(bob):
    past = timezone.now() - datetime.timedelta(seconds=1)
    User.objects.filter(pk=bob.user.pk).update(
        password_is_temporary=True, temporary_password_expires_at=past
    )
    before = User.objects.values().get(pk=bob.user.pk)
    events = AuditEvent.objects.count()
    client = Client()
    response = client.post(
        reverse("office:login"), {"username": bob.user.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert (
        "This temporary password has expired. Please ask the office for a new one."
        in response.content.decode()
    )
    assert client.get(reverse("office:login_code"))["Location"] == reverse("office:login")
    assert client.get(reverse("office:home"))["Location"].startswith("/office/login/")
    assert User.objects.values().get(pk=bob.user.pk) == before
    assert not OfficeSession.objects.filter(user=bob.user).exists()
    assert not LoginFailure.objects.exists()  # the right password: not a guess to count
    assert AuditEvent.objects.count() == events  # as at the portal's door


def test_a_staff_member_whose_temporary_password_expired_gets_a_new_one_from_the_command(
    bob, bob_client
):
    import io
    import re

    from django.core.management import CommandError, call_command

    past = timezone.now() - datetime.timedelta(seconds=1)
    User.objects.filter(pk=bob.user.pk).update(
        password_is_temporary=True, temporary_password_expires_at=past
    )
    out = io.StringIO()
    call_command("staff_password_reissue", bob.user.username, stdout=out)
    password = re.search(r"next sign-in\): (\S+)", out.getvalue()).group(1)  # type: ignore[union-attr]
    assert "It expires in 7 days" in out.getvalue()
    user = User.objects.get(pk=bob.user.pk)
    assert user.password_is_temporary and user.temporary_password_expires_at is not None
    assert user.temporary_password_expires_at > timezone.now()
    assert not OfficeSession.objects.filter(user=bob.user).exists()  # signed out everywhere
    assert bob_client.get(reverse("office:home"))["Location"].startswith("/office/login/")
    event = AuditEvent.objects.get(action="staff.password_reissued")
    assert event.practice == bob.practice and event.object_id == str(bob.user.pk)
    client = Client()
    response = client.post(
        reverse("office:login"), {"username": bob.user.username, "password": password}
    )
    assert response.status_code == 302  # on to the code step, then to choosing their own
    with pytest.raises(CommandError, match="No staff member"):
        call_command("staff_password_reissue", "nobody", stdout=io.StringIO())
