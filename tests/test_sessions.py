"""Sessions at both doors: an absolute lifetime, the lists of signed-in devices, ending them.

OWASP ASVS 5.0, chapter 7 (session management).
"""

from __future__ import annotations

import datetime
import time
import uuid

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinicportal.accounts.models import OfficeSession, PortalSession
from clinicportal.audit.models import AuditEvent
from clinicportal.core.session_state import ABSOLUTE_LIFETIME
from clinicportal.office.auth import SEEN as OFFICE_SEEN
from clinicportal.portal import auth as portal_auth
from clinicportal.practices.models import StaffMember
from tests.conftest import (
    GUARDIAN_PASSWORD,
    NEW_PASSWORD,
    PASSWORD,
    add_guardian,
    login,
    portal_login,
)
from tests.conftest import office_sign_in as conftest_office_sign_in

AGO = 10 * 60
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def test_a_portal_session_cookie_keeps_the_expiry_of_its_sign_in(ada_portal, practice_x, clock):
    """Requests do not slide it: it ends 12 h after the sign-in, not 8 h after the last page."""
    client = Client()
    clock.now = time.time() - AGO  # signed in ten minutes ago
    portal_login(client, practice_x, "ada", NEW_PASSWORD)
    clock.now = time.time()  # a page now stamps its use and saves the session
    response = client.get("/p/clinic-x/records/")
    assert response.status_code == 200
    max_age = int(response.cookies["sessionid"]["max-age"])
    assert ABSOLUTE_LIFETIME - AGO - 5 < max_age <= ABSOLUTE_LIFETIME - AGO


def test_a_portal_session_past_its_lifetime_is_signed_out_though_in_use(ada_portal, clock):
    start = clock.now
    while clock.now < start + ABSOLUTE_LIFETIME - 10 * 60:
        clock.now += 10 * 60  # a page every ten minutes: never idle
        assert ada_portal.get("/p/clinic-x/records/").status_code == 200
    clock.now = start + ABSOLUTE_LIFETIME + 1
    assert ada_portal.get("/p/clinic-x/records/")["Location"] == "/p/clinic-x/login/"
    assert portal_auth.ACCOUNT not in ada_portal.session


def test_an_office_session_past_its_lifetime_is_signed_out_though_in_use(bob_client, bob, clock):
    start = clock.now
    while clock.now < start + ABSOLUTE_LIFETIME - 10 * 60:
        clock.now += 10 * 60  # a page every ten minutes: never idle
        assert bob_client.get("/office/patients/").status_code == 200
    clock.now = start + ABSOLUTE_LIFETIME + 1
    response = bob_client.get("/office/patients/")
    assert response["Location"].startswith("/office/login/?next=")
    assert "signed out after 12 hours" in bob_client.get(response["Location"]).content.decode()
    assert AuditEvent.objects.filter(action="staff.timed_out", actor_user=bob.user).exists()
    assert not OfficeSession.objects.filter(user=bob.user).exists()
    assert bob_client.get("/office/patients/").status_code == 302  # signed out for good


def test_an_office_session_cookie_keeps_the_expiry_of_its_sign_in(bob, clock):
    client = Client()
    clock.now = time.time() - AGO  # signed in ten minutes ago
    conftest_office_sign_in(client, bob)
    clock.now = time.time()  # a page now stamps its use and saves the session
    response = client.get("/office/patients/")
    assert response.status_code == 200
    max_age = int(response.cookies["sessionid"]["max-age"])
    assert ABSOLUTE_LIFETIME - AGO - 5 < max_age <= ABSOLUTE_LIFETIME - AGO


def test_an_office_sign_in_makes_a_session_row_and_sign_out_deletes_it(bob):
    client = Client(headers={"user-agent": FIREFOX}, REMOTE_ADDR="203.0.113.7")
    conftest_office_sign_in(client, bob)
    row = OfficeSession.objects.get(user=bob.user)
    assert row.session_key == client.session.session_key
    assert (row.ip, row.user_agent) == ("203.0.113.7", FIREFOX)
    client.post(reverse("office:logout"))
    assert not OfficeSession.objects.exists()


def test_an_office_session_whose_row_is_gone_is_signed_out_at_once(bob_client):
    assert bob_client.get("/office/patients/").status_code == 200
    OfficeSession.objects.all().delete()
    response = bob_client.get("/office/patients/")
    assert response["Location"].startswith("/office/login/?next=")
    assert "_auth_user_id" not in bob_client.session
    assert "You were signed out." in bob_client.get(response["Location"]).content.decode()


def test_the_office_stamps_last_seen_at_most_once_a_minute(bob_client, clock):
    seen = OfficeSession.objects.get().last_seen_at
    clock.now += 30
    bob_client.get("/office/patients/")
    assert OfficeSession.objects.get().last_seen_at == seen
    clock.now += 31
    bob_client.get("/office/patients/")
    assert OfficeSession.objects.get().last_seen_at > seen


# The lists of signed-in devices, and signing devices out.


def alice_of(practice) -> StaffMember:
    return StaffMember.objects.get(practice=practice, user__username="alice")


CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


def office_sign_in(username: str, agent: str = FIREFOX, ip: str = "203.0.113.7") -> Client:
    client = Client(headers={"user-agent": agent}, REMOTE_ADDR=ip)
    conftest_office_sign_in(client, StaffMember.objects.get(user__username=username))
    assert client.session.get("_auth_user_id"), "the office sign-in did not succeed"
    return client


def portal_sign_in(username: str, password: str, agent: str = FIREFOX) -> Client:
    client = Client(headers={"user-agent": agent}, REMOTE_ADDR="198.51.100.4")
    client.post("/p/clinic-x/login/", {"username": username, "password": password})
    assert client.session.get(portal_auth.ACCOUNT), "the portal sign-in did not succeed"
    return client


def end_one(public_id: uuid.UUID, password: str) -> dict[str, str]:
    """What "Sign out this device" sends: the password, in that row's form."""
    return {f"end-{public_id}-password": password}


def end_all(password: str) -> dict[str, str]:
    """What "Sign out everywhere" sends."""
    return {"end-all-password": password}


def test_my_account_lists_the_staff_members_devices_this_one_marked(bob, alice):
    laptop = office_sign_in("bob", FIREFOX, "203.0.113.7")
    phone = office_sign_in("bob", CHROME_MAC, "203.0.113.8")
    login(Client(), alice)  # someone else's: not listed
    html = laptop.get(reverse("office:account")).content.decode()
    assert "Where you are signed in" in html
    assert "Firefox on Windows" in html and "Chrome on Mac" in html
    assert "203.0.113.7" in html and "203.0.113.8" in html
    assert html.count("This device") == 1
    assert (
        html.index("Firefox on Windows") < html.index("This device") < html.index("Chrome on Mac")
    )
    assert html.count("Sign out this device") == 1  # only the other one
    phone_row = OfficeSession.objects.get(session_key=phone.session.session_key)
    assert f"/office/account/sessions/{phone_row.public_id}/end/" in html
    for row in OfficeSession.objects.all():
        assert row.session_key not in html  # pages never show a session key


def test_signing_out_another_office_device_ends_it_at_once(bob):
    laptop = office_sign_in("bob")
    phone = office_sign_in("bob", CHROME_MAC)
    assert phone.get("/office/patients/").status_code == 200
    row = OfficeSession.objects.get(session_key=phone.session.session_key)
    response = laptop.post(
        reverse("office:session_end", args=[row.public_id]), end_one(row.public_id, PASSWORD)
    )
    assert response["Location"] == reverse("office:account")
    assert "That device is signed out." in laptop.get(response["Location"]).content.decode()
    assert phone.get("/office/patients/")["Location"].startswith("/office/login/")
    assert laptop.get("/office/patients/").status_code == 200
    event = AuditEvent.objects.get(action="staff.session_ended")
    assert (event.actor_user, event.object_id) == (bob.user, str(row.public_id))
    assert event.object_label == "Chrome on Mac"


def test_staff_cannot_sign_out_someone_elses_device_nor_learn_it_exists(bob, alice):
    bob_client = office_sign_in("bob")
    alice_client = login(Client(), alice)
    alices = OfficeSession.objects.get(user=alice.user)
    unknown_id = uuid.UUID(int=404)
    theirs = bob_client.post(
        reverse("office:session_end", args=[alices.public_id]), end_one(alices.public_id, PASSWORD)
    )
    unknown = bob_client.post(
        reverse("office:session_end", args=[unknown_id]), end_one(unknown_id, PASSWORD)
    )
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.content == unknown.content
    assert alice_client.get("/office/patients/").status_code == 200
    assert not AuditEvent.objects.filter(action="staff.session_ended").exists()


def test_this_office_session_is_not_ended_by_its_id(bob):
    """Ending this very session is Sign out; its id is refused like any other not on offer."""
    client = office_sign_in("bob")
    row = OfficeSession.objects.get()
    response = client.post(
        reverse("office:session_end", args=[row.public_id]), end_one(row.public_id, PASSWORD)
    )
    assert response.status_code == 404
    assert client.get("/office/patients/").status_code == 200


def test_sign_out_everywhere_ends_every_office_session_this_one_too(bob, alice):
    laptop = office_sign_in("bob")
    phone = office_sign_in("bob", CHROME_MAC)
    alice_client = login(Client(), alice)
    response = laptop.post(reverse("office:sessions_end_all"), end_all(PASSWORD))
    assert response["Location"] == reverse("office:login")
    assert "signed out on every device" in laptop.get(response["Location"]).content.decode()
    assert phone.get("/office/patients/")["Location"].startswith("/office/login/")
    assert laptop.get("/office/patients/")["Location"].startswith("/office/login/")
    assert alice_client.get("/office/patients/").status_code == 200
    assert list(OfficeSession.objects.values_list("user", flat=True)) == [alice.user.pk]
    actions = set(AuditEvent.objects.filter(actor_user=bob.user).values_list("action", flat=True))
    assert {"staff.other_sessions_ended", "staff.logout"} <= actions


def test_the_list_leaves_out_sessions_the_server_would_refuse(bob, clock, settings):
    laptop = office_sign_in("bob")
    office_sign_in("bob", CHROME_MAC)  # then left alone: idle
    clock.now += settings.CLINICPORTAL_OFFICE_IDLE_MINUTES * 60 + 120
    OfficeSession.objects.exclude(session_key=laptop.session.session_key).update(
        last_seen_at=timezone.now() - datetime.timedelta(minutes=31)
    )
    session = laptop.session
    session[OFFICE_SEEN] = int(clock.now)
    session.save()
    html = laptop.get(reverse("office:account")).content.decode()
    assert "Firefox on Windows" in html and "Chrome on Mac" not in html


def test_my_account_reads_the_same_whatever_the_number_of_devices(bob):
    laptop = office_sign_in("bob")
    laptop.get(reverse("office:account"))
    with CaptureQueriesContext(connection) as few:
        laptop.get(reverse("office:account"))
    for _ in range(4):
        office_sign_in("bob", CHROME_MAC)
    with CaptureQueriesContext(connection) as many:
        html = laptop.get(reverse("office:account")).content.decode()
    assert html.count("Sign out this device") == 4
    assert len(few) == len(many)


def test_the_portal_account_page_lists_the_accounts_devices(ada_portal, practice_x, patient_a):
    phone = portal_sign_in("ada", NEW_PASSWORD, CHROME_MAC)
    mary = add_guardian(alice_of(practice_x), patient_a)
    portal_sign_in("mary", GUARDIAN_PASSWORD)  # another account's: not listed
    html = phone.get("/p/clinic-x/account/").content.decode()
    assert html.count("This device") == 1
    assert html.count("Sign out this device") == 1  # ada_portal's; not mary's
    # No cell is labelled "Sign out" as a card: the button says it; this device's is empty,
    # and hidden.
    assert 'data-label="Sign out"' not in html
    assert "<td></td>" in html
    assert "198.51.100.4" in html
    for row in PortalSession.objects.all():
        assert row.session_key not in html
    assert mary.account.sessions.count() == 1


def test_signing_out_another_portal_device_ends_it_at_once(ada_portal, patient_a):
    phone = portal_sign_in("ada", NEW_PASSWORD, CHROME_MAC)
    other = PortalSession.objects.get(session_key=ada_portal.session.session_key)
    response = phone.post(
        f"/p/clinic-x/account/sessions/{other.public_id}/end/",
        end_one(other.public_id, NEW_PASSWORD),
    )
    assert response["Location"] == "/p/clinic-x/account/"
    assert "That device is signed out." in phone.get(response["Location"]).content.decode()
    signed_out = ada_portal.get("/p/clinic-x/records/")
    assert signed_out["Location"].startswith("/p/clinic-x/login/")
    page = ada_portal.get(signed_out["Location"]).content.decode()
    assert "You were signed out. Please sign in again." in page
    assert phone.get("/p/clinic-x/records/").status_code == 200
    assert AuditEvent.objects.filter(action="portal.session_ended", patient=patient_a).exists()
    assert "Signed out another device" in phone.get("/p/clinic-x/logs/").content.decode()


def test_a_patient_cannot_sign_out_someone_elses_device(ada_portal, practice_x, patient_a):
    add_guardian(alice_of(practice_x), patient_a)
    mary = portal_sign_in("mary", GUARDIAN_PASSWORD)
    marys = PortalSession.objects.get(session_key=mary.session.session_key)
    unknown_id = uuid.UUID(int=404)
    theirs = ada_portal.post(
        f"/p/clinic-x/account/sessions/{marys.public_id}/end/",
        end_one(marys.public_id, NEW_PASSWORD),
    )
    unknown = ada_portal.post(
        f"/p/clinic-x/account/sessions/{unknown_id}/end/", end_one(unknown_id, NEW_PASSWORD)
    )
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.content == unknown.content
    assert mary.get("/p/clinic-x/records/").status_code == 200


def test_sign_out_everywhere_ends_every_portal_session_this_one_too(ada_portal, patient_a):
    phone = portal_sign_in("ada", NEW_PASSWORD, CHROME_MAC)
    response = phone.post("/p/clinic-x/account/sessions/end/", end_all(NEW_PASSWORD))
    assert response["Location"] == "/p/clinic-x/login/"
    assert "signed out on every device" in phone.get(response["Location"]).content.decode()
    assert ada_portal.get("/p/clinic-x/records/")["Location"].startswith("/p/clinic-x/login/")
    assert phone.get("/p/clinic-x/records/")["Location"].startswith("/p/clinic-x/login/")
    assert not PortalSession.objects.exists()
    actions = set(AuditEvent.objects.filter(patient=patient_a).values_list("action", flat=True))
    assert {"portal.other_sessions_ended", "portal.logout"} <= actions


def test_the_portal_account_page_reads_the_same_whatever_the_number_of_devices(ada_portal):
    ada_portal.get("/p/clinic-x/account/")
    with CaptureQueriesContext(connection) as few:
        ada_portal.get("/p/clinic-x/account/")
    for _ in range(4):
        portal_sign_in("ada", NEW_PASSWORD, CHROME_MAC)
    with CaptureQueriesContext(connection) as many:
        html = ada_portal.get("/p/clinic-x/account/").content.decode()
    assert html.count("Sign out this device") == 4
    assert len(few) == len(many)


# Sign-out tells the browser to forget the site's cache and storage.

CLEARED = '"cache", "storage"'


def test_office_sign_outs_clear_the_sites_data_in_the_browser(bob, clock, settings):
    client = office_sign_in("bob")
    assert "Clear-Site-Data" not in client.get("/office/patients/")
    assert client.post(reverse("office:logout"))["Clear-Site-Data"] == CLEARED

    client = office_sign_in("bob")
    clock.now += settings.CLINICPORTAL_OFFICE_IDLE_MINUTES * 60 + 1  # timed out
    assert client.get("/office/patients/")["Clear-Site-Data"] == CLEARED

    client = office_sign_in("bob")
    OfficeSession.objects.all().delete()  # signed out from another device
    assert client.get("/office/patients/")["Clear-Site-Data"] == CLEARED

    client = office_sign_in("bob")
    assert (
        client.post(reverse("office:sessions_end_all"), end_all(PASSWORD))["Clear-Site-Data"]
        == CLEARED
    )


def test_portal_sign_outs_clear_the_sites_data_in_the_browser(ada_portal, practice_x, clock):
    assert "Clear-Site-Data" not in ada_portal.get("/p/clinic-x/records/")
    assert ada_portal.post("/p/clinic-x/logout/")["Clear-Site-Data"] == CLEARED
    assert "Clear-Site-Data" not in ada_portal.get("/p/clinic-x/records/")  # not signed in

    client = portal_sign_in("ada", NEW_PASSWORD)
    clock.now += practice_x.portal_idle_minutes * 60 + 1  # timed out
    assert client.get("/p/clinic-x/records/")["Clear-Site-Data"] == CLEARED

    client = portal_sign_in("ada", NEW_PASSWORD)
    PortalSession.objects.all().delete()  # signed out from another device
    assert client.get("/p/clinic-x/records/")["Clear-Site-Data"] == CLEARED

    client = portal_sign_in("ada", NEW_PASSWORD)
    assert (
        client.post("/p/clinic-x/account/sessions/end/", end_all(NEW_PASSWORD))["Clear-Site-Data"]
        == CLEARED
    )


# One-time messages are kept in the session, and still reach the page after a sign-out.


def test_sign_out_messages_survive_the_new_session_and_no_messages_cookie_is_set(
    ada_portal, bob, clock, settings
):
    """Django's logout flushes the session and the portal's sign-out cycles its key: the
    message, added after, goes into the new session."""
    responses = []

    def follow(client: Client, response):
        responses.append(response)
        page = client.get(response["Location"])
        responses.append(page)
        return page.content.decode()

    client = office_sign_in("bob")
    assert "You have signed out." in follow(client, client.post(reverse("office:logout")))
    client = office_sign_in("bob")
    clock.now += settings.CLINICPORTAL_OFFICE_IDLE_MINUTES * 60 + 1
    page = follow(client, client.get("/office/patients/"))
    assert "signed out after a time without activity" in page
    client = office_sign_in("bob")
    page = follow(client, client.post(reverse("office:sessions_end_all"), end_all(PASSWORD)))
    assert "signed out on every device" in page

    client = portal_sign_in("ada", NEW_PASSWORD)
    assert "You have signed out." in follow(client, client.post("/p/clinic-x/logout/"))
    client = portal_sign_in("ada", NEW_PASSWORD)
    clock.now += 16 * 60
    assert "You were signed out to protect" in follow(client, client.get("/p/clinic-x/records/"))
    client = portal_sign_in("ada", NEW_PASSWORD)
    page = follow(client, client.post("/p/clinic-x/account/sessions/end/", end_all(NEW_PASSWORD)))
    assert "signed out on every device" in page

    assert settings.MESSAGE_STORAGE.endswith("SessionStorage")
    assert all("messages" not in response.cookies for response in responses)


def test_a_browser_at_both_doors_stays_signed_in_at_one_when_the_other_changes_its_key(
    bob, ada_portal, practice_x
):
    """The doors share one browser session. A sign-in, a sign-out or a password change at one
    gives it a new key; the other door's sign-in carries on under it."""
    client = Client()
    office, portal = "/office/patients/", "/p/clinic-x/records/"
    conftest_office_sign_in(client, bob)
    portal_login(client, practice_x, "ada", NEW_PASSWORD)
    assert (client.get(office).status_code, client.get(portal).status_code) == (200, 200)
    client.post("/p/clinic-x/logout/")
    assert client.get(office).status_code == 200
    portal_login(client, practice_x, "ada", NEW_PASSWORD)
    conftest_office_sign_in(client, bob)
    assert (client.get(office).status_code, client.get(portal).status_code) == (200, 200)
    new = "a-new-lantern-meadow-77"
    changed = client.post(
        reverse("office:account_password"),
        {"current_password": PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert changed.status_code == 302
    assert (client.get(office).status_code, client.get(portal).status_code) == (200, 200)


def test_sweep_forgets_session_rows_past_the_lifetime_and_expired_stored_sessions(
    bob, ada_portal, practice_x
):
    import io

    from django.contrib.sessions.models import Session
    from django.core.management import call_command

    old_office, fresh_office = Client(), Client()
    conftest_office_sign_in(old_office, bob)
    conftest_office_sign_in(fresh_office, bob)
    old_portal = Client()
    portal_login(old_portal, practice_x, "ada", NEW_PASSWORD)
    old_office_key, fresh_office_key = (
        old_office.session.session_key,
        fresh_office.session.session_key,
    )
    old_portal_key, fresh_portal_key = (
        old_portal.session.session_key,
        ada_portal.session.session_key,
    )
    assert None not in (old_office_key, fresh_office_key, old_portal_key, fresh_portal_key)
    long_ago = timezone.now() - datetime.timedelta(seconds=ABSOLUTE_LIFETIME, minutes=1)
    OfficeSession.objects.filter(session_key=old_office_key).update(created_at=long_ago)
    PortalSession.objects.filter(session_key=old_portal_key).update(created_at=long_ago)
    Session.objects.filter(session_key=old_office_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    out = io.StringIO()
    call_command("sweep", stdout=out)
    assert list(OfficeSession.objects.values_list("session_key", flat=True)) == [fresh_office_key]
    assert list(PortalSession.objects.values_list("session_key", flat=True)) == [fresh_portal_key]
    stored = set(Session.objects.values_list("session_key", flat=True))
    assert old_office_key not in stored
    assert {fresh_office_key, fresh_portal_key} <= stored
    assert (
        "Forgot 2 session rows older than 12 hours (the session lifetime), and the expired "
        "stored sessions." in out.getvalue()
    )
