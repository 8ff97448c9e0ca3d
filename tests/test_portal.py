"""The patient's side: sign in, forced password change, time-outs, LOGS, ACCOUNT, switching."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from clinicportal.accounts.models import LoginFailure, PortalSession
from clinicportal.accounts.services.portal_access import authorized_user_link
from clinicportal.audit.models import AuditEvent
from clinicportal.portal import auth
from tests.conftest import GUARDIAN_PASSWORD, NEW_PASSWORD, actor, add_guardian, portal_login


def test_the_sign_in_page_names_the_practice(client, practice_x):
    response = client.get("/p/clinic-x/login/")
    assert "Clinic X Eye Care" in response.content.decode()
    assert client.get("/p/unknown/login/").status_code == 404


def test_first_sign_in_must_set_a_new_password(client, practice_x, patient_a, issue_access):
    username, temporary = issue_access(patient_a, "ada")
    response = portal_login(client, practice_x, username, temporary)
    assert response.status_code == 302
    assert client.get("/p/clinic-x/logs/")["Location"] == "/p/clinic-x/password/"
    assert client.get("/p/clinic-x/account/")["Location"] == "/p/clinic-x/password/"
    mismatch = client.post(
        "/p/clinic-x/password/", {"new_password": NEW_PASSWORD, "confirm_password": "other"}
    )
    assert "do not match" in mismatch.content.decode()
    response = client.post(
        "/p/clinic-x/password/", {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/p/clinic-x/logs/").status_code == 200
    fresh = Client()
    assert portal_login(fresh, practice_x, username, temporary).status_code == 200
    assert portal_login(fresh, practice_x, "ADA", NEW_PASSWORD).status_code == 302


def test_sign_in_starts_a_new_session(client, practice_x, patient_a, issue_access):
    username, temporary = issue_access(patient_a, "ada")
    client.get("/p/clinic-x/login/")
    before = client.session.session_key
    portal_login(client, practice_x, username, temporary)
    assert client.session.session_key != before


def test_wrong_passwords_are_refused_the_same_way_for_unknown_users(
    client, practice_x, patient_a, issue_access
):
    issue_access(patient_a, "ada")
    wrong = portal_login(client, practice_x, "ada", "not-the-password").content.decode()
    unknown = portal_login(client, practice_x, "nobody", "not-the-password").content.decode()
    message = "That username and password do not match."
    assert message in wrong and message in unknown
    assert AuditEvent.objects.filter(action="portal.login_failed", patient=patient_a).count() == 1


def test_repeated_failures_lock_the_username_even_with_the_right_password(
    client, practice_x, patient_a, issue_access
):
    username, temporary = issue_access(patient_a, "ada")
    for _ in range(5):
        portal_login(client, practice_x, username, "wrong-password-guess")
    response = portal_login(client, practice_x, username, temporary)
    assert response.status_code == 200
    assert "sign-in is paused for 15 minutes" in response.content.decode()
    LoginFailure.objects.all().delete()  # the cool-off has passed
    assert portal_login(client, practice_x, username, temporary).status_code == 302


def test_an_address_is_throttled_across_usernames(client, practice_x, patient_a, issue_access):
    username, temporary = issue_access(patient_a, "ada")
    for i in range(20):
        portal_login(client, practice_x, f"guess{i}", "wrong-password-guess")
    assert "paused" in portal_login(client, practice_x, username, temporary).content.decode()
    other_address = Client(REMOTE_ADDR="10.9.8.7")
    assert portal_login(other_address, practice_x, username, temporary).status_code == 302


def test_an_expired_temporary_password_is_refused_kindly(
    client, practice_x, patient_a, issue_access
):
    from clinicportal.accounts.models import PortalAccount

    username, temporary = issue_access(patient_a, "ada")
    PortalAccount.objects.update(temporary_password_expires_at="2020-01-01T00:00:00Z")
    response = portal_login(client, practice_x, username, temporary)
    assert (
        "This temporary password has expired. Please ask the office for a new one."
        in response.content.decode()
    )


def test_an_account_signs_in_only_at_its_own_practice(
    client, practice_x, practice_y, patient_a, issue_access
):
    username, temporary = issue_access(patient_a, "ada")
    assert portal_login(client, practice_y, username, temporary).status_code == 200
    portal_login(client, practice_x, username, temporary)
    assert client.get("/p/clinic-y/logs/")["Location"].startswith("/p/clinic-y/login/")


def test_log_out_ends_the_session(ada_portal, practice_x):
    assert ada_portal.get("/p/clinic-x/logout/").status_code == 405
    response = ada_portal.post("/p/clinic-x/logout/")
    assert response["Location"] == "/p/clinic-x/login/"
    assert ada_portal.get("/p/clinic-x/logs/")["Location"].startswith("/p/clinic-x/login/")
    assert not PortalSession.objects.exists()


def test_the_idle_time_out_is_enforced_by_the_server(ada_portal, practice_x, patient_a):
    session = ada_portal.session
    session[auth.SEEN] = int(time.time()) - 16 * 60
    session.save()
    response = ada_portal.get("/p/clinic-x/logs/?keepalive=1&idle=99999")
    assert response["Location"] == "/p/clinic-x/login/"
    assert ada_portal.get("/p/clinic-x/account/")["Location"].startswith("/p/clinic-x/login/")
    assert AuditEvent.objects.filter(action="portal.timed_out", patient=patient_a).exists()


def test_the_idle_time_out_follows_the_practice_setting(ada_portal, practice_x):
    practice_x.portal_idle_minutes = 30
    practice_x.save()
    session = ada_portal.session
    session[auth.SEEN] = int(time.time()) - 16 * 60
    session.save()
    assert ada_portal.get("/p/clinic-x/logs/").status_code == 200


def test_sessions_have_an_absolute_lifetime(ada_portal):
    session = ada_portal.session
    session[auth.STARTED] = int(time.time()) - 13 * 60 * 60
    session.save()
    assert ada_portal.get("/p/clinic-x/logs/").status_code == 302


def test_pages_warn_before_the_time_out(ada_portal):
    html = ada_portal.get("/p/clinic-x/logs/").content.decode()
    assert 'data-idle-minutes="15"' in html
    assert "you will be signed out in about a minute" in html


def test_navigation_follows_the_seed_and_hides_what_is_not_built(ada_portal, practice_x):
    html = ada_portal.get("/p/clinic-x/logs/").content.decode()
    nav = html.split('aria-label="Portal"')[1].split("</nav>")[0]
    assert nav.index("LOGS") < nav.index("ACCOUNT")
    for hidden in ("FORMS", "SCHEDULE", "PAY BILLS"):
        assert hidden not in nav
    assert "Log Out" in html
    assert "Ada Lovelace" in html and "Clinic X Eye Care" in html


def test_logs_show_sign_ins_password_changes_and_issued_access(ada_portal, patient_a):
    response = ada_portal.get("/p/clinic-x/logs/")
    html = response.content.decode()
    for text in (
        "Portal access issued by the office",
        "Signed in",
        "Password changed",
        "The office",
        "Ada Lovelace",
    ):
        assert text in html
    entries = response.context["page"].object_list
    assert entries[0].action == "portal.password_changed"
    assert all(entry.patient_id == patient_a.pk for entry in entries)


def test_logs_are_paginated_with_a_constant_number_of_queries(ada_portal, practice_x):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        ada_portal.get("/p/clinic-x/logs/")
    for _ in range(30):
        portal_login(Client(), practice_x, "ada", NEW_PASSWORD)
    with CaptureQueriesContext(connection) as many:
        response = ada_portal.get("/p/clinic-x/logs/")
    assert len(response.context["page"].object_list) == 25
    assert response.context["page"].has_next()
    assert len(many) == len(few)


def test_logs_cannot_be_changed_or_deleted_through_any_page(ada_portal):
    for method in ("post", "put", "patch", "delete"):
        response = getattr(ada_portal, method)("/p/clinic-x/logs/")
        assert response.status_code in {405}, method


def test_change_password_needs_the_current_one_and_ends_other_sessions(ada_portal, practice_x):
    other = Client()
    portal_login(other, practice_x, "ada", NEW_PASSWORD)
    assert other.get("/p/clinic-x/logs/").status_code == 200
    wrong = ada_portal.post(
        "/p/clinic-x/account/",
        {
            "current_password": "nope",
            "new_password": "x" * 20 + "Q1",
            "confirm_password": "x" * 20 + "Q1",
        },
    )
    assert "That is not your current password." in wrong.content.decode()
    response = ada_portal.post(
        "/p/clinic-x/account/",
        {
            "current_password": NEW_PASSWORD,
            "new_password": "meadow-copper-lantern-77",
            "confirm_password": "meadow-copper-lantern-77",
        },
    )
    assert "Your password is changed" in response.content.decode()
    assert ada_portal.get("/p/clinic-x/logs/").status_code == 200
    assert other.get("/p/clinic-x/logs/").status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-1", "too short"),
        ("password1234", "too common"),
        ("Lovelace1234", "too similar"),
    ],
)
def test_weak_new_passwords_are_refused(ada_portal, password, message):
    response = ada_portal.post(
        "/p/clinic-x/account/",
        {"current_password": NEW_PASSWORD, "new_password": password, "confirm_password": password},
    )
    assert message in response.content.decode()


def test_long_passwords_are_used_exactly_as_typed(ada_portal, practice_x):
    long_password = "correct horse " * 9 + "  trailing spaces  "
    ada_portal.post(
        "/p/clinic-x/account/",
        {
            "current_password": NEW_PASSWORD,
            "new_password": long_password,
            "confirm_password": long_password,
        },
    )
    assert portal_login(Client(), practice_x, "ada", long_password).status_code == 302
    assert portal_login(Client(), practice_x, "ada", long_password.strip()).status_code == 200
    assert portal_login(Client(), practice_x, "ada", long_password[:72]).status_code == 200


@pytest.fixture
def guardian(alice, patient_a, patient_b):
    issued = add_guardian(alice, patient_a)
    authorized_user_link(actor=actor(alice), patient=patient_b, username="mary", note="guardian")
    return issued.account


def test_records_name_whose_records_they_are(client, practice_x, guardian, patient_b):
    """A guardian reads Blaise's records: the page says so, not "shared with you"."""
    portal_login(client, practice_x, "mary", GUARDIAN_PASSWORD)
    client.post("/p/clinic-x/choose/", {"patient": str(patient_b.public_id)})
    page = client.get("/p/clinic-x/records/").content.decode()
    assert "Files Blaise’s care team has shared" in page and "with you" not in page


def test_a_guardian_picks_then_switches_patients(
    client, practice_x, guardian, patient_a, patient_b
):
    portal_login(client, practice_x, "mary", GUARDIAN_PASSWORD)
    assert client.get("/p/clinic-x/logs/")["Location"] == "/p/clinic-x/choose/"
    choose = client.get("/p/clinic-x/choose/").content.decode()
    assert "Ada Lovelace" in choose and "Blaise Pascal" in choose
    client.post("/p/clinic-x/choose/", {"patient": str(patient_b.public_id)})
    page = client.get("/p/clinic-x/logs/")
    assert "Blaise Pascal" in page.content.decode()
    assert all(e.patient_id == patient_b.pk for e in page.context["page"].object_list)
    client.post("/p/clinic-x/choose/", {"patient": str(patient_a.public_id)})
    assert (
        "Ada Lovelace · signed in as Mary Lovelace"
        in client.get("/p/clinic-x/logs/").content.decode()
    )


def test_a_guardian_cannot_pick_a_patient_not_granted(
    client, practice_x, guardian, patient_c, alice
):
    from tests.conftest import add_patient

    stranger = add_patient(alice, "Other", "Child")
    portal_login(client, practice_x, "mary", GUARDIAN_PASSWORD)
    for patient in (stranger, patient_c):
        response = client.post("/p/clinic-x/choose/", {"patient": str(patient.public_id)})
        assert "Please choose one of the patients listed." in response.content.decode()
    assert client.get("/p/clinic-x/logs/")["Location"] == "/p/clinic-x/choose/"


def test_guardian_actions_show_in_the_patient_logs_under_their_name(
    client, practice_x, guardian, patient_a
):
    portal_login(client, practice_x, "mary", GUARDIAN_PASSWORD)
    client.post("/p/clinic-x/choose/", {"patient": str(patient_a.public_id)})
    html = client.get("/p/clinic-x/logs/").content.decode()
    assert "Mary Lovelace" in html
    assert "Authorized user added" in html
    event = AuditEvent.objects.filter(action="portal.login", patient=patient_a).latest("at")
    assert event.actor_portal_account == guardian


def test_names_with_markup_show_as_text_in_the_portal(client, practice_x, alice, patient_a):
    add_guardian(alice, patient_a, "evil", "<img src=x onerror=alert(1)>")
    portal_login(client, practice_x, "evil", GUARDIAN_PASSWORD)
    html = client.get("/p/clinic-x/logs/").content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_hash_with_older_parameters_is_upgraded_at_sign_in(ada_portal, practice_x, settings):
    from django.contrib.auth.hashers import Argon2PasswordHasher, make_password

    from clinicportal.accounts.models import PortalAccount

    settings.PASSWORD_HASHERS = [
        "clinicportal.accounts.hashers.Argon2idHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
    old = make_password(NEW_PASSWORD, hasher=Argon2PasswordHasher())  # Django's heavier defaults
    assert "m=102400,t=2,p=8" in old
    PortalAccount.objects.update(password=old)
    assert portal_login(Client(), practice_x, "ada", NEW_PASSWORD).status_code == 302
    upgraded = PortalAccount.objects.get().password
    assert upgraded.startswith("argon2$argon2id$") and "m=19456,t=2,p=1" in upgraded


def test_a_hash_with_the_former_46_mib_parameters_is_upgraded_and_still_signs_in(
    ada_portal, practice_x, settings
):
    from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password

    from clinicportal.accounts.models import PortalAccount

    class Former46MiB(Argon2PasswordHasher):
        time_cost, memory_cost, parallelism = 1, 47104, 1

    settings.PASSWORD_HASHERS = ["clinicportal.accounts.hashers.Argon2idHasher"]
    old = make_password(NEW_PASSWORD, hasher=Former46MiB())
    assert "m=47104,t=1,p=1" in old
    PortalAccount.objects.update(password=old)
    assert portal_login(Client(), practice_x, "ada", NEW_PASSWORD).status_code == 302
    upgraded = PortalAccount.objects.get().password
    assert upgraded != old and "m=19456,t=2,p=1" in upgraded
    assert check_password(NEW_PASSWORD, upgraded)
    assert portal_login(Client(), practice_x, "ada", NEW_PASSWORD).status_code == 302
    assert PortalAccount.objects.get().password == upgraded  # not rehashed again


def test_failed_sign_ins_for_unknown_usernames_are_kept_for_the_office(client, practice_x):
    portal_login(client, practice_x, "nobody", "guess-guess-guess")
    event = AuditEvent.objects.get(action="portal.login_failed")
    assert event.patient is None and event.practice == practice_x


def test_guessing_the_current_password_inside_a_session_counts_toward_the_lockout(ada_portal):
    from clinicportal.accounts.throttle import LOCKED_MESSAGE, PER_USERNAME

    for _ in range(PER_USERNAME):
        wrong = ada_portal.post(
            "/p/clinic-x/account/",
            {
                "current_password": "not-it",
                "new_password": "harbor-quartz-meadow-7",
                "confirm_password": "harbor-quartz-meadow-7",
            },
        )
        assert "That is not your current password" in wrong.content.decode()
    right = ada_portal.post(
        "/p/clinic-x/account/",
        {
            "current_password": NEW_PASSWORD,
            "new_password": "harbor-quartz-meadow-7",
            "confirm_password": "harbor-quartz-meadow-7",
        },
    )
    assert LOCKED_MESSAGE in right.content.decode()
    ada_portal.post("/p/clinic-x/account/two-step/", {"action": "start"})
    on = ada_portal.post(
        "/p/clinic-x/account/two-step/", {"password": NEW_PASSWORD, "code": "000000"}
    )
    assert LOCKED_MESSAGE in on.content.decode()  # turning two-step sign-in on, too
    door = Client().post("/p/clinic-x/login/", {"username": "ada", "password": NEW_PASSWORD})
    assert LOCKED_MESSAGE in door.content.decode()  # the same count as guesses at the door
    from clinicportal.accounts.models import PortalAccount
    from clinicportal.accounts.passwords import password_matches

    assert password_matches(NEW_PASSWORD, PortalAccount.objects.get(username="ada").password)


def test_visiting_another_practices_portal_leaves_the_sign_in_as_it_is(ada_portal, practice_y):
    for path in ("/p/clinic-y/records/", "/p/clinic-y/logs/", "/p/clinic-y/account/"):
        response = ada_portal.get(path)
        assert response["Location"].startswith("/p/clinic-y/login/")
    assert ada_portal.get("/p/clinic-x/records/").status_code == 200  # still signed in here
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PORTAL_TIMED_OUT).exists()


def test_a_sign_in_reads_the_practice_once(ada_portal, practice_x):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = portal_login(Client(), practice_x, "ada", NEW_PASSWORD)
    assert response.status_code == 302
    reads = [q["sql"] for q in queries if 'FROM "practices_practice"' in q["sql"]]
    assert len(reads) == 1, reads
