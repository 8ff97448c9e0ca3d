"""Admin → Staff: an admin ends the sessions of one staff member, of all staff, of all portal users.

OWASP ASVS 5.0, 7.4.5: administrators can terminate active sessions for one user or for all.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.accounts.models import OfficeSession, PortalSession
from clinicportal.audit.models import AuditEvent
from clinicportal.practices.models import StaffMember
from tests.conftest import GUARDIAN_PASSWORD, NEW_PASSWORD, add_guardian, make_staff
from tests.test_sessions import CHROME_MAC, office_sign_in, portal_sign_in

STAFF = reverse("office:settings_staff")
ALL_STAFF = reverse("office:settings_staff_sign_out_all")
ALL_PORTAL = reverse("office:settings_portal_sign_out")


def sign_out_url(member: StaffMember) -> str:
    return reverse("office:settings_staff_sign_out", args=[member.public_id])


def signed_out(client: Client) -> bool:
    """The client's next office page sends it to sign in."""
    response = client.get("/office/patients/")
    return response.status_code == 302 and response["Location"].startswith("/office/login/")


def portal_signed_out(client: Client) -> bool:
    response = client.get("/p/clinic-x/records/")
    return response.status_code == 302 and response["Location"].startswith("/p/clinic-x/login/")


@pytest.fixture
def alice_in(alice) -> Client:
    return office_sign_in("alice")


def test_the_staff_page_lists_staff_with_their_devices_signed_in(alice_in, alice, bob, carol):
    office_sign_in("bob")
    office_sign_in("bob", CHROME_MAC)
    office_sign_in("carol")  # another practice's: not listed
    html = alice_in.get(STAFF).content.decode()
    assert "Bob Front Desk" in html and "2 devices" in html and "1 device" in html
    assert "Carol" not in html
    assert f'href="{sign_out_url(bob)}"' in html
    assert sign_out_url(alice) not in html  # their own: from My account
    assert 'Sign out everywhere<span class="visually-hidden"> Bob Front Desk</span>' in html


def test_the_staff_page_reads_the_same_whatever_the_number_of_staff_and_devices(alice_in, alice):
    alice_in.get(STAFF)
    with CaptureQueriesContext(connection) as few:
        alice_in.get(STAFF)
    for n in range(4):
        make_staff(alice.practice, f"desk{n}", f"Desk {n}")
        office_sign_in(f"desk{n}")
        office_sign_in(f"desk{n}", CHROME_MAC)
    with CaptureQueriesContext(connection) as many:
        html = alice_in.get(STAFF).content.decode()
    assert html.count("2 devices") == 4
    assert len(few) == len(many)


def test_the_confirmation_names_the_staff_member_and_counts_their_devices(alice_in, bob):
    office_sign_in("bob")
    office_sign_in("bob", CHROME_MAC)
    html = alice_in.get(sign_out_url(bob)).content.decode()
    assert "Sign Bob Front Desk out everywhere?" in html
    assert "on 2 devices now" in html
    assert "Yes, sign Bob Front Desk out" in html
    assert OfficeSession.objects.filter(user=bob.user).count() == 2  # asking ends nothing


def test_an_admin_signs_a_staff_member_out_everywhere(alice_in, alice, bob, practice_x):
    laptop, phone = office_sign_in("bob"), office_sign_in("bob", CHROME_MAC)
    other = office_sign_in("alice", CHROME_MAC)
    response = alice_in.post(sign_out_url(bob))
    assert response["Location"] == STAFF
    html = alice_in.get(STAFF).content.decode()
    assert "Bob Front Desk is signed out of the office everywhere." in html
    assert signed_out(laptop) and signed_out(phone)
    assert alice_in.get("/office/patients/").status_code == 200
    assert other.get("/office/patients/").status_code == 200  # the admin's own: untouched
    assert not OfficeSession.objects.filter(user=bob.user).exists()
    event = AuditEvent.objects.get(action="staff.sessions_ended_by_admin")
    assert (event.actor_user, event.practice) == (alice.user, practice_x)
    assert (event.object_id, event.object_label) == (str(bob.public_id), "Bob Front Desk")


def test_another_practices_staff_member_is_an_unknown_id(alice_in, carol):
    office_sign_in("carol")
    for send in (alice_in.get, alice_in.post):
        theirs = send(sign_out_url(carol))
        unknown = send(reverse("office:settings_staff_sign_out", args=[uuid.UUID(int=404)]))
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.content == unknown.content
    assert OfficeSession.objects.filter(user=carol.user).exists()
    assert not AuditEvent.objects.filter(action="staff.sessions_ended_by_admin").exists()


def test_an_admin_does_not_sign_themself_out_here(alice_in, alice):
    """Their own is Sign out everywhere on My account, which says it signs this browser out."""
    assert alice_in.get(sign_out_url(alice)).status_code == 404
    assert alice_in.post(sign_out_url(alice)).status_code == 404
    assert alice_in.get("/office/patients/").status_code == 200
    assert not AuditEvent.objects.filter(action="staff.sessions_ended_by_admin").exists()


def test_staff_who_are_not_admins_are_refused_every_page(alice, bob):
    bob_in = office_sign_in("bob")
    alices = office_sign_in("alice")
    ada = make_staff(alice.practice, "ada", "Ada Desk")
    office_sign_in("ada")
    for path in (STAFF, sign_out_url(ada), ALL_STAFF, ALL_PORTAL):
        assert bob_in.get(path).status_code == 403, path
        if path != STAFF:
            assert bob_in.post(path).status_code == 403, path
    assert OfficeSession.objects.filter(user=ada.user).exists()
    assert alices.get("/office/patients/").status_code == 200
    assert not AuditEvent.objects.filter(action__in=ACTIONS).exists()


ACTIONS = [
    "staff.sessions_ended_by_admin",
    "practice.staff_signed_out",
    "practice.portal_signed_out",
]


def test_the_staff_page_only_reads(alice_in, bob):
    office_sign_in("bob")
    assert alice_in.post(STAFF).status_code == 405
    assert OfficeSession.objects.filter(user=bob.user).exists()


def test_sign_out_all_staff_asks_first_with_the_count(alice_in, alice, bob, carol):
    office_sign_in("bob")
    office_sign_in("bob", CHROME_MAC)
    office_sign_in("alice", CHROME_MAC)
    office_sign_in("carol")  # another practice's: not counted
    html = alice_in.get(ALL_STAFF).content.decode()
    assert "3 other office sessions are active now." in html
    assert "You stay signed in on this device." in html
    assert OfficeSession.objects.count() == 5


def test_sign_out_all_staff_ends_every_session_of_the_practice_but_this_one(
    alice_in, alice, bob, carol, practice_x
):
    bobs = [office_sign_in("bob"), office_sign_in("bob", CHROME_MAC)]
    alices_phone = office_sign_in("alice", CHROME_MAC)
    carols = office_sign_in("carol")
    response = alice_in.post(ALL_STAFF)
    assert response["Location"] == STAFF
    html = alice_in.get(STAFF).content.decode()
    assert "3 office sessions ended. You are still signed in here." in html
    assert all(signed_out(client) for client in [*bobs, alices_phone])
    assert alice_in.get("/office/patients/").status_code == 200
    assert carols.get("/office/patients/").status_code == 200  # another practice: untouched
    event = AuditEvent.objects.get(action="practice.staff_signed_out")
    assert (event.actor_user, event.practice, event.object_id) == (
        alice.user,
        practice_x,
        str(practice_x.public_id),
    )
    assert not AuditEvent.objects.filter(practice=carol.practice, action__in=ACTIONS).exists()


@pytest.fixture
def portal_users(ada_portal, practice_x, patient_a, alice) -> list[Client]:
    """Ada on two devices and her mother Mary on one, all signed in to the portal."""
    add_guardian(alice, patient_a)
    return [
        ada_portal,
        portal_sign_in("ada", NEW_PASSWORD),
        portal_sign_in("mary", GUARDIAN_PASSWORD),
    ]


def test_sign_out_all_portal_users_asks_first_with_the_count(alice_in, portal_users):
    html = alice_in.get(ALL_PORTAL).content.decode()
    assert "3 portal sessions are active now." in html
    assert PortalSession.objects.count() == 3


def test_sign_out_all_portal_users_ends_every_portal_session_of_the_practice(
    alice_in, alice, bob, portal_users, practice_x, carol, patient_c
):
    bob_in = office_sign_in("bob")
    response = alice_in.post(ALL_PORTAL)
    assert response["Location"] == STAFF
    assert "3 portal sessions ended." in alice_in.get(STAFF).content.decode()
    assert all(portal_signed_out(client) for client in portal_users)
    assert not PortalSession.objects.exists()
    assert bob_in.get("/office/patients/").status_code == 200  # the office: untouched
    event = AuditEvent.objects.get(action="practice.portal_signed_out")
    assert (event.actor_user, event.practice) == (alice.user, practice_x)


def test_another_practices_portal_is_not_signed_out(portal_users, practice_y):
    yvonne_in = office_sign_in("yvonne")  # the admin of practice Y
    assert yvonne_in.post(ALL_PORTAL)["Location"] == STAFF
    assert "0 portal sessions ended." in yvonne_in.get(STAFF).content.decode()
    assert PortalSession.objects.count() == 3
    assert not any(portal_signed_out(client) for client in portal_users)
