"""A portal account's owner is told by email of a sign-in that may not have been theirs (ASVS
6.3.5): the right password with a wrong code, a sign-in after several wrong attempts, and a
recovery code used to sign in. A plain sign-in tells nobody. Staff: test_staff_sign_in_notices."""

from __future__ import annotations

import copy
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from clinicportal.accounts import throttle, totp
from clinicportal.accounts.models import LoginFailure, PortalAccount, RecoveryCode
from clinicportal.accounts.services import unfinished
from clinicportal.accounts.services.unfinished import UNFINISHED_AFTER
from clinicportal.core.session_state import PENDING_SECONDS
from clinicportal.notifications.models import OutboxEmail
from clinicportal.portal import auth
from tests.conftest import NEW_PASSWORD, portal_login, run_worker
from tests.test_two_factor import a_step_later, current_code, turn_on

WRONG = "not-the-password-at-all"
STOPPED = "A sign-in to your Clinic X Eye Care portal account was not finished"
AFTER = "Your Clinic X Eye Care portal account was signed in to after several wrong attempts"
RECOVERY = "A recovery code was used to sign in to your Clinic X Eye Care portal account"
UNFINISHED_TASK = "clinicportal.accounts.tasks.sign_in_unfinished_check"
WHEN = r"\w+day, \w+ \d+, \d{4} at \d+:\d\d [AP]M \w+"


def notices() -> list[OutboxEmail]:
    return list(OutboxEmail.objects.filter(kind="sign_in_attempt").order_by("pk"))


def subjects() -> list[str]:
    return [email.subject for email in notices()]


def failures_age_out() -> None:
    """Move every recorded failure to just before the throttle's window, as time would."""
    LoginFailure.objects.update(at=timezone.now() - throttle.WINDOW - timedelta(seconds=1))


def wrong_code(client: Client) -> None:
    response = client.post("/p/clinic-x/login/code/", {"code": "000000"})
    assert "That code did not work." in response.text


def test_the_right_password_and_a_wrong_code_is_told_once_in_the_window(ada_portal, practice_x):
    secret, _ = turn_on(ada_portal)
    visitor = Client()
    portal_login(visitor, practice_x, "ada", NEW_PASSWORD)
    assert not notices()  # the password alone tells nobody: the code may come next
    wrong_code(visitor)
    wrong_code(visitor)
    assert subjects() == [STOPPED]
    (told,) = notices()
    assert re.search(
        rf"On {WHEN}, the right password for your patient portal account at Clinic X Eye Care "
        r"was given, but not the right code from the authenticator app, so no one signed in\.",
        told.body_text,
    )
    assert "If this was you (a mistyped or expired code, or a sign-in left at the code, say)" in (
        told.body_text
    )
    assert "someone knows your password: please choose a new one at once" in told.body_text
    assert "The office can help at (207) 555-0100." in told.body_text
    assert "000000" not in told.body_text + told.body_html

    failures_age_out()  # a quarter of an hour later, another try is news again
    wrong_code(visitor)
    assert subjects() == [STOPPED, STOPPED]
    a_step_later()
    signed_in = visitor.post("/p/clinic-x/login/code/", {"code": current_code(secret)})
    assert signed_in.status_code == 302
    assert subjects() == [STOPPED, STOPPED]  # one wrong attempt in the window: a slip


def test_a_sign_in_after_three_wrong_attempts_is_told_with_how_many(ada_portal, practice_x):
    visitor = Client()
    for _ in range(3):
        assert "do not match" in portal_login(visitor, practice_x, "ada", WRONG).text
    assert not notices()
    assert portal_login(visitor, practice_x, "ada", NEW_PASSWORD).status_code == 302
    assert subjects() == [AFTER]
    (told,) = notices()
    assert re.search(
        rf"Someone signed in to your patient portal account at Clinic X Eye Care on {WHEN}, "
        r"after 3 wrong attempts in the 15 minutes before\.",
        told.body_text,
    )
    assert "please call the office at (207) 555-0100" in told.body_text
    assert WRONG not in told.body_text + told.body_html
    # The sign-in cleared the count: the next one, with no wrong attempt, tells nobody.
    assert portal_login(visitor, practice_x, "ada", NEW_PASSWORD).status_code == 302
    assert subjects() == [AFTER]


def test_two_slips_or_old_failures_tell_nobody(ada_portal, practice_x):
    visitor = Client()
    for _ in range(2):
        portal_login(visitor, practice_x, "ada", WRONG)
    assert portal_login(visitor, practice_x, "ada", NEW_PASSWORD).status_code == 302
    for _ in range(3):
        portal_login(visitor, practice_x, "ada", WRONG)
    failures_age_out()
    assert portal_login(visitor, practice_x, "ada", NEW_PASSWORD).status_code == 302
    assert not notices()


def test_wrong_codes_count_toward_the_attempts_before_a_sign_in(ada_portal, practice_x):
    secret, _ = turn_on(ada_portal)
    visitor = Client()
    portal_login(visitor, practice_x, "ada", WRONG)
    portal_login(visitor, practice_x, "ada", NEW_PASSWORD)
    wrong_code(visitor)
    wrong_code(visitor)
    a_step_later()
    assert (
        visitor.post("/p/clinic-x/login/code/", {"code": current_code(secret)}).status_code == 302
    )
    assert subjects() == [STOPPED, AFTER]
    assert "after 3 wrong attempts" in notices()[1].body_text


def test_a_recovery_code_used_to_sign_in_is_told_with_how_many_are_left(ada_portal, practice_x):
    _, codes = turn_on(ada_portal)
    first = Client()
    portal_login(first, practice_x, "ada", NEW_PASSWORD)
    assert first.post("/p/clinic-x/login/code/", {"code": codes[0]}).status_code == 302
    assert subjects() == [RECOVERY]
    (told,) = notices()
    assert re.search(
        r"A recovery code was used in place of a code from the authenticator app to sign in to "
        rf"your patient portal account at Clinic X Eye Care on {WHEN}\. It cannot be used "
        r"again\. 9 recovery codes are left, and you can make new ones under ACCOUNT\.",
        told.body_text,
    )
    assert "someone has your password and one of your recovery codes" in told.body_text
    for code in codes:
        assert code not in told.body_text + told.body_html

    others = RecoveryCode.objects.exclude(code_hash=totp.recovery_hash(codes[-1]))
    others.update(used_at=timezone.now())  # as if eight more had been used since
    last = Client()
    portal_login(last, practice_x, "ada", NEW_PASSWORD)
    assert last.post("/p/clinic-x/login/code/", {"code": codes[-1]}).status_code == 302
    assert "No recovery codes are left: please make new ones under ACCOUNT." in (
        notices()[-1].body_text
    )


def test_a_right_code_sent_twice_or_a_code_refused_while_paused_is_not_called_wrong(
    ada_portal, practice_x
):
    """A double click, or a second device a moment after the first, sends a code that worked
    already; a code sent while sign-in is paused is not checked. Neither is a wrong code."""
    secret, _ = turn_on(ada_portal)
    a_step_later()
    code = current_code(secret)
    first, second = Client(), Client()
    portal_login(first, practice_x, "ada", NEW_PASSWORD)
    portal_login(second, practice_x, "ada", NEW_PASSWORD)
    assert first.post("/p/clinic-x/login/code/", {"code": code}).status_code == 302
    wrong_code_page = second.post("/p/clinic-x/login/code/", {"code": code})
    assert "That code did not work." in wrong_code_page.text
    for _ in range(throttle.PER_USERNAME):  # someone else pauses sign-in meanwhile
        portal_login(Client(), practice_x, "ada", WRONG)
    paused = second.post("/p/clinic-x/login/code/", {"code": "000000"})
    assert "paused" in paused.text
    assert not notices()
    assert not LoginFailure.objects.filter(stage=LoginFailure.Stage.WRONG_CODE).exists()
    assert LoginFailure.objects.filter(stage=LoginFailure.Stage.CODE_REFUSED).count() == 2


def test_wrong_passwords_inside_a_signed_in_session_are_not_attempts_to_sign_in(
    ada_portal, practice_x
):
    for _ in range(3):
        refused = ada_portal.post(
            "/p/clinic-x/account/",
            {"current_password": WRONG, "new_password": WRONG, "confirm_password": WRONG},
        )
        assert "That is not your current password." in refused.text
    assert portal_login(Client(), practice_x, "ada", NEW_PASSWORD).status_code == 302
    assert not notices()
    assert not LoginFailure.objects.exists()  # the sign-in cleared them all the same


def test_a_recovery_code_after_wrong_attempts_is_one_email_that_says_both(ada_portal, practice_x):
    _, codes = turn_on(ada_portal)
    visitor = Client()
    for _ in range(3):
        portal_login(visitor, practice_x, "ada", WRONG)
    portal_login(visitor, practice_x, "ada", NEW_PASSWORD)
    assert visitor.post("/p/clinic-x/login/code/", {"code": codes[0]}).status_code == 302
    assert subjects() == [RECOVERY]
    assert "It came after 3 wrong attempts in the 15 minutes before." in notices()[0].body_text


def test_a_sign_in_with_the_authenticator_tells_nobody(ada_portal, practice_x):
    secret, _ = turn_on(ada_portal)
    visitor = Client()
    portal_login(visitor, practice_x, "ada", NEW_PASSWORD)
    a_step_later()
    assert (
        visitor.post("/p/clinic-x/login/code/", {"code": current_code(secret)}).status_code == 302
    )
    assert not notices()


# The right password, then no code -----------------------------------------------------------


def unfinished_checks():
    return DBTaskResult.objects.filter(task_path=UNFINISHED_TASK)


def ten_minutes_pass() -> None:
    unfinished_checks().update(run_after=timezone.now())


def sign_in_with_code(client: Client, practice, secret: str) -> None:
    portal_login(client, practice, "ada", NEW_PASSWORD)
    a_step_later()
    assert client.post("/p/clinic-x/login/code/", {"code": current_code(secret)}).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_the_right_password_then_no_code_is_told_ten_minutes_later(ada_portal, practice_x):
    turn_on(ada_portal)
    visitor = Client()
    portal_login(visitor, practice_x, "ada", NEW_PASSWORD)
    (check,) = unfinished_checks()
    assert check.run_after - timezone.now() > UNFINISHED_AFTER - timedelta(minutes=1)
    run_worker()
    assert not notices()  # not yet: the code may still come
    ten_minutes_pass()
    run_worker()
    assert subjects() == [STOPPED]
    assert re.search(
        rf"On {WHEN}, the right password for your patient portal account at Clinic X Eye Care "
        r"was given, but no code from the authenticator app followed, so that sign-in was not "
        r"finished\.",
        notices()[0].body_text,
    )
    run_worker()  # a check the worker ran does not run or tell again
    assert len(notices()) == 1


@pytest.mark.django_db(transaction=True)
def test_a_sign_in_finished_a_wrong_code_or_a_later_password_tells_nothing_more(
    ada_portal, practice_x
):
    secret, _ = turn_on(ada_portal)
    sign_in_with_code(Client(), practice_x, secret)
    ten_minutes_pass()
    run_worker()
    assert not notices()

    wrong = Client()
    portal_login(wrong, practice_x, "ada", NEW_PASSWORD)
    wrong_code(wrong)  # told at once, by its own email
    ten_minutes_pass()
    run_worker()
    assert subjects() == [STOPPED]

    for _ in range(3):  # the password again and again: one check, from the first, one email
        portal_login(Client(), practice_x, "ada", NEW_PASSWORD)
    assert unfinished_checks().filter(status="READY").count() == 1
    ten_minutes_pass()
    run_worker()
    assert subjects() == [STOPPED, STOPPED]
    assert not PortalAccount.objects.filter(second_step_awaited_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_her_own_sign_in_meanwhile_does_not_hide_one_someone_left_at_the_code(
    ada_portal, practice_x
):
    secret, _ = turn_on(ada_portal)
    portal_login(Client(), practice_x, "ada", NEW_PASSWORD)  # someone stops at the code
    sign_in_with_code(Client(), practice_x, secret)  # and Ada signs in, minutes later
    ten_minutes_pass()
    run_worker()
    assert subjects() == [STOPPED]


@pytest.mark.django_db(transaction=True)
def test_the_password_given_twice_in_one_browser_then_the_code_tells_nobody(ada_portal, practice_x):
    secret, _ = turn_on(ada_portal)
    browser = Client()
    portal_login(browser, practice_x, "ada", NEW_PASSWORD)  # back, and the password again
    sign_in_with_code(browser, practice_x, secret)
    ten_minutes_pass()
    run_worker()
    assert not notices()
    assert not PortalAccount.objects.filter(second_step_awaited_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_her_own_sign_in_begun_again_after_the_code_page_timed_out_tells_nobody(
    ada_portal, practice_x
):
    secret, _ = turn_on(ada_portal)
    browser = Client()
    portal_login(browser, practice_x, "ada", NEW_PASSWORD)
    session = browser.session  # more than five minutes at the code page: begin again
    subject, next_url, at, *kept = session[auth.PENDING]
    session[auth.PENDING] = [subject, next_url, at - PENDING_SECONDS - 1, *kept]
    session.save()
    assert browser.get("/p/clinic-x/login/code/")["Location"] == "/p/clinic-x/login/"
    sign_in_with_code(browser, practice_x, secret)
    ten_minutes_pass()
    run_worker()
    assert not notices()


@pytest.mark.django_db(transaction=True)
def test_the_password_form_posted_twice_at_once_then_the_code_tells_nobody(ada_portal, practice_x):
    secret, _ = turn_on(ada_portal)
    first, twin = Client(), Client()  # two posts of one browser, each starting its own session
    first.get("/p/clinic-x/login/")  # the form, and the browser's CSRF cookie
    twin.cookies = copy.deepcopy(first.cookies)
    portal_login(first, practice_x, "ada", NEW_PASSWORD)  # its answer is the one lost
    sign_in_with_code(twin, practice_x, secret)
    assert PortalAccount.objects.get(username="ada").second_step_awaited_by == ""  # forgotten
    ten_minutes_pass()
    run_worker()
    assert not notices()
    # Another browser's password meanwhile is still told: it is not this browser's mark.
    portal_login(Client(), practice_x, "ada", NEW_PASSWORD)
    sign_in_with_code(twin, practice_x, secret)
    ten_minutes_pass()
    run_worker()
    assert subjects() == [SHARED]


@pytest.mark.django_db(transaction=True)
def test_the_next_person_at_a_shared_computer_does_not_clear_the_last_one_s_mark(
    ada_portal, practice_x, monkeypatch
):
    secret, _ = turn_on(ada_portal)
    someone, owner = Client(), Client()  # one browser, its CSRF cookie kept between them
    someone.get("/p/clinic-x/login/")
    owner.cookies = copy.deepcopy(someone.cookies)
    portal_login(someone, practice_x, "ada", NEW_PASSWORD)  # and walks away at the code
    monkeypatch.setattr(unfinished, "TWIN_POST_WITHIN", timedelta(0))  # more than a moment on
    sign_in_with_code(owner, practice_x, secret)
    ten_minutes_pass()
    run_worker()
    assert subjects() == [STOPPED]


def browser() -> Client:
    """A browser with the portal's sign-in page open: it has a CSRF cookie of its own."""
    client = Client()
    client.get("/p/clinic-x/login/")
    return client


SHARED = "Your Clinic X Eye Care portal password was given in more than one browser"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("hers_first", [True, False])
def test_someone_s_password_beside_hers_is_told_though_she_finishes(
    ada_portal, practice_x, hers_first
):
    secret, _ = turn_on(ada_portal)
    hers, theirs = browser(), browser()
    for client in (hers, theirs) if hers_first else (theirs, hers):
        portal_login(client, practice_x, "ada", NEW_PASSWORD)
    a_step_later()
    assert hers.post("/p/clinic-x/login/code/", {"code": current_code(secret)}).status_code == 302
    ten_minutes_pass()
    run_worker()
    assert subjects() == [SHARED]
    assert re.search(
        rf"On {WHEN}, the right password for your patient portal account at Clinic X Eye Care "
        r"was given, and within minutes given again in another browser\.",
        notices()[0].body_text,
    )
    portal_login(theirs, practice_x, "ada", NEW_PASSWORD)  # later, a mark of its own again
    assert PortalAccount.objects.get(username="ada").second_step_awaited_by not in ("", "*")


@pytest.mark.django_db(transaction=True)
def test_her_own_wrong_code_does_not_hide_another_browser_s_password(ada_portal, practice_x):
    turn_on(ada_portal)
    hers, theirs = browser(), browser()
    portal_login(hers, practice_x, "ada", NEW_PASSWORD)
    wrong_code(hers)  # told at once; and she gives up
    portal_login(theirs, practice_x, "ada", NEW_PASSWORD)
    ten_minutes_pass()
    run_worker()
    assert subjects() == [STOPPED, SHARED]


@pytest.mark.django_db(transaction=True)
def test_a_code_refused_while_paused_is_a_code_that_came(ada_portal, practice_x):
    turn_on(ada_portal)
    visitor = Client()
    portal_login(visitor, practice_x, "ada", NEW_PASSWORD)
    for _ in range(throttle.PER_USERNAME):
        portal_login(Client(), practice_x, "ada", WRONG)
    assert "paused" in visitor.post("/p/clinic-x/login/code/", {"code": "000000"}).text
    ten_minutes_pass()
    run_worker()
    assert not notices()


def test_a_mark_left_over_from_a_lost_check_is_replaced(ada_portal, practice_x):
    turn_on(ada_portal)
    long_ago = timezone.now() - 2 * UNFINISHED_AFTER - timedelta(seconds=1)
    PortalAccount.objects.filter(username="ada").update(second_step_awaited_at=long_ago)
    portal_login(Client(), practice_x, "ada", NEW_PASSWORD)
    assert unfinished_checks().count() == 1
    marked = PortalAccount.objects.get(username="ada").second_step_awaited_at
    assert marked is not None and marked > long_ago


def test_a_sign_in_without_two_step_awaits_no_code(ada_portal, practice_x):
    assert portal_login(Client(), practice_x, "ada", NEW_PASSWORD).status_code == 302
    assert not unfinished_checks().exists()


@pytest.mark.django_db(transaction=True)
def test_the_notice_reaches_a_real_mail_server_in_text_and_html(
    ada_portal, practice_x, email_settings, smtp_server
):
    visitor = Client()
    for _ in range(3):
        portal_login(visitor, practice_x, "ada", WRONG)
    portal_login(visitor, practice_x, "ada", NEW_PASSWORD)
    run_worker()
    told = [m for m in smtp_server.messages if m["Subject"] == AFTER]
    assert [m["To"] for m in told] == ["ada@example.com"]
    parts = {
        part.get_content_type(): part.get_content()
        for part in told[0].walk()
        if not part.is_multipart()
    }
    assert "after 3 wrong attempts in the 15 minutes before" in parts["text/plain"]
    assert "Portal address: http" in parts["text/plain"]
    assert "<p>Someone signed in to your patient portal account" in parts["text/html"]
    assert "“Forgot your password?”" in parts["text/html"]
