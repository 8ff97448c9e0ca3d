"""A staff member is told by email, at their own address, when how they sign in to the office
changed (ASVS 6.3.7) and of a sign-in there that may not have been theirs (ASVS 6.3.5): an
office account opens every patient's chart, and its owner is the first to know whether it was
them. Never a password or a code; who to tell; the office's address."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from clinicportal.accounts.models import RecoveryCode, TwoFactorDevice
from clinicportal.accounts.services.common import SignInRefused
from clinicportal.accounts.services.notices import (
    STAFF_EVENTS,
    SignInAttempt,
    SignInChange,
    staff_sign_in_notify,
)
from clinicportal.accounts.services.sign_in import (
    OfficeDoor,
    second_step_attempt,
    sign_in_attempt,
    sign_in_complete,
)
from clinicportal.accounts.services.staff_password import staff_password_change
from clinicportal.accounts.services.two_step import (
    recovery_codes_renew,
    two_factor_enrol,
    two_factor_turn_on,
)
from clinicportal.accounts.totp import recovery_codes, recovery_hash
from clinicportal.notifications.models import OutboxEmail
from clinicportal.practices.models import StaffMember
from clinicportal.practices.services import staff_create, staff_password_reissue
from tests.conftest import (
    PASSWORD,
    actor,
    authenticator_code,
    make_staff,
    office_code,
    office_sign_in,
    run_worker,
)
from tests.test_sign_in_attempt_notices import WHEN, ten_minutes_pass

NEW = "a-new-office-password-2026"
WRONG = "not-the-password-at-all"
ADMIN = "please tell your practice’s administrator at once"


def told(to: str = "bob@example.com") -> list[OutboxEmail]:
    return list(OutboxEmail.objects.filter(kind="staff_sign_in", to=to).order_by("pk"))


def subjects(to: str = "bob@example.com") -> list[str]:
    return [email.subject for email in told(to)]


def sign_in(username: str, password: str):
    return sign_in_attempt(
        OfficeDoor(), username=username, password=password, ip="10.0.0.7", user_agent="pytest"
    )


def code_step(member: StaffMember, code: str):
    return second_step_attempt(
        OfficeDoor(),
        subject_id=member.user.pk,
        code=code,
        ip="10.0.0.7",
        user_agent="pytest",
        browser=None,
    )


def test_a_new_password_of_their_own_is_told_with_the_office_s_address(bob):
    staff_password_change(actor=actor(bob), current=PASSWORD, new=NEW, session_key="")
    assert subjects() == ["Your Clinic X Eye Care office password was changed"]
    (email,) = told()
    assert "The password of your office account at Clinic X Eye Care was changed on" in (
        email.body_text
    )
    assert ADMIN in email.body_text
    assert "Office address: http://testserver/office/login/" in email.body_text
    for secret in (NEW, PASSWORD):
        assert secret not in email.body_text + email.body_html


def test_the_first_password_and_a_reissued_one_are_told(practice_x):
    member = staff_create(
        practice=practice_x,
        username="dora",
        email="dora@example.com",
        display_name="Dora",
        role=StaffMember.Role.STAFF,
        password=PASSWORD,
    )
    assert not told("dora@example.com")  # the admin who added her hands over the first
    staff_password_change(actor=actor(member), current=None, new=NEW, session_key="")
    staff_password_reissue(member=member, password="temporary-from-the-console-1")
    assert subjects("dora@example.com") == [
        "A password was chosen for your Clinic X Eye Care office account",
        "Your Clinic X Eye Care office account was given a new temporary password",
    ]
    assert "If you did not ask for this, please tell your practice’s administrator at once." in (
        told("dora@example.com")[1].body_text
    )


def test_new_recovery_codes_are_told(bob):
    code = office_code(bob)
    recovery_codes_renew(actor=actor(bob), password=PASSWORD, code=code, session_key="")
    assert subjects() == ["New recovery codes were made for your Clinic X Eye Care office account"]


def test_the_right_password_then_a_wrong_code_is_told(bob):
    office_code(bob)  # an authenticator
    sign_in("bob", PASSWORD)
    with pytest.raises(SignInRefused):
        code_step(bob, "000000")
    assert subjects() == ["A sign-in to your Clinic X Eye Care office account was not finished"]
    assert "choose a new one at once under My account" in told()[0].body_text


def test_a_sign_in_after_wrong_attempts_and_one_with_a_recovery_code_are_told(bob):
    office_code(bob)
    for _ in range(3):
        with pytest.raises(SignInRefused):
            sign_in("bob", WRONG)
    user = sign_in("bob", PASSWORD)
    sign_in_complete(OfficeDoor(), user, ip="10.0.0.7", user_agent="pytest", browser=None)
    device = TwoFactorDevice.objects.get(user=bob.user)
    (code,) = recovery_codes(1)
    RecoveryCode.objects.create(device=device, code_hash=recovery_hash(code))
    code_step(bob, code)
    assert subjects() == [
        "Your Clinic X Eye Care office account was signed in to after several wrong attempts",
        "A recovery code was used to sign in to your Clinic X Eye Care office account",
    ]
    assert "after 3 wrong attempts in the 15 minutes before" in told()[0].body_text
    assert "No recovery codes are left: please make new ones under My account." in (
        told()[1].body_text
    )


def test_a_staff_member_without_an_address_is_changed_all_the_same(bob):
    get_user_model().objects.filter(pk=bob.user.pk).update(email="")
    bob.user.refresh_from_db()
    staff_password_change(actor=actor(bob), current=PASSWORD, new=NEW, session_key="")
    assert bob.user.check_password(NEW)
    assert not OutboxEmail.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_notice_reaches_a_real_mail_server(bob, email_settings, smtp_server):
    staff_password_change(actor=actor(bob), current=PASSWORD, new=NEW, session_key="")
    run_worker()
    (message,) = [m for m in smtp_server.messages if "office password" in m["Subject"]]
    assert message["To"] == "bob@example.com"
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_content()
    assert '<a href="http://testserver/office/login/">' in html


def test_every_event_staff_are_told_of_has_words_of_its_own_and_no_other_is_sent(bob):
    seen = set()
    for event in STAFF_EVENTS:
        staff_sign_in_notify(user=bob.user, event=event)
        email = OutboxEmail.objects.latest("pk")
        # Only the two kinds of sign-in not finished share a subject; no two share their words.
        assert email.body_text not in seen
        seen.add(email.body_text)
        assert "office account" in email.body_text or "office password" in email.body_text
        assert "portal" not in email.subject + email.body_text.replace("Portal address", "")
    for other in set(SignInChange) | set(SignInAttempt):
        if other not in STAFF_EVENTS:
            with pytest.raises(ValueError):
                staff_sign_in_notify(user=bob.user, event=other)


def test_the_first_authenticator_at_the_first_sign_in_is_not_told(bob):
    enrolment = two_factor_enrol(owner=bob.user, issuer="Clinic X office", label="bob")
    two_factor_turn_on(
        actor=actor(bob),
        password=None,
        code=authenticator_code(enrolment.secret),
        session_key="",
    )
    assert TwoFactorDevice.objects.filter(user=bob.user, confirmed_at__isnull=False).exists()
    assert not OutboxEmail.objects.exists()


def test_a_colleague_s_notice_is_shown_to_them_and_to_admins_only(
    practice_x, alice_client, bob, bob_client
):
    dora = make_staff(practice_x, "dora", "Dora")
    for member in (dora, bob):  # (a new password would sign bob_client out)
        staff_sign_in_notify(user=member.user, event=SignInChange.RECOVERY_CODES)
    doras, bobs = told("dora@example.com")[0], told()[0]
    outbox = reverse("office:outbox")
    listed = bob_client.get(outbox).text
    assert bobs.subject in listed and "dora@example.com" not in listed
    opened = reverse("office:outbox_email", args=[doras.public_id])
    assert bob_client.get(opened).status_code == 404
    assert bob_client.get(reverse("office:outbox_email", args=[bobs.public_id])).status_code == 200
    assert "dora@example.com" in alice_client.get(outbox).text
    assert alice_client.get(opened).status_code == 200


# The right password, then no code -----------------------------------------------------------


def password_only(member: StaffMember, client: Client | None = None) -> Client:
    """The right password at the office's door, and no code: the code page is next."""
    office_code(member)  # an authenticator, as every staff member has after the first sign-in
    client = client or Client()
    answer = client.post(
        reverse("office:login"), {"username": member.user.username, "password": PASSWORD}
    )
    assert answer["Location"] == reverse("office:login_code")
    return client


@pytest.mark.django_db(transaction=True)
def test_the_right_password_then_no_code_is_told_ten_minutes_later(bob):
    password_only(bob)
    run_worker()
    assert not told()  # not yet: the code may still come
    ten_minutes_pass()
    run_worker()
    assert subjects() == ["A sign-in to your Clinic X Eye Care office account was not finished"]
    (email,) = told()
    assert re.search(
        rf"On {WHEN}, the right password for your office account at Clinic X Eye Care was "
        r"given, but no code from the authenticator app followed, so that sign-in was not "
        r"finished\.",
        email.body_text,
    )
    assert "or a sign-in left at the code, say), there is nothing to do" in email.body_text
    assert not get_user_model().objects.filter(second_step_awaited_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_finished_sign_in_tells_nobody_but_does_not_hide_one_left_before_it(bob):
    bobs = Client()  # his own browser
    office_sign_in(bobs, bob)
    ten_minutes_pass()
    run_worker()
    assert not told()
    bobs.post(reverse("office:logout"))

    password_only(bob)  # someone stops at the code ...
    assert office_sign_in(bobs, bob).status_code == 302  # ... and Bob signs in meanwhile
    ten_minutes_pass()
    run_worker()
    assert subjects() == [
        "Your Clinic X Eye Care office password was given in more than one browser"
    ]


@pytest.mark.django_db(transaction=True)
def test_a_wrong_code_after_the_password_is_told_once_not_twice(bob):
    client = password_only(bob)
    client.post(reverse("office:login_code"), {"code": "000000"})
    assert len(told()) == 1  # at once, by its own email
    ten_minutes_pass()
    run_worker()
    assert len(told()) == 1


@pytest.mark.django_db(transaction=True)
def test_someone_s_password_beside_theirs_is_told_though_they_finish(bob):
    hers, theirs = Client(), Client()
    for client in (hers, theirs):
        client.get(reverse("office:login"))  # each browser with a CSRF cookie of its own
    password_only(bob, hers)
    password_only(bob, theirs)
    assert hers.post(reverse("office:login_code"), {"code": office_code(bob)}).status_code == 302
    ten_minutes_pass()
    run_worker()
    assert subjects() == [
        "Your Clinic X Eye Care office password was given in more than one browser"
    ]
    assert "and within minutes given again in another browser." in told()[0].body_text
