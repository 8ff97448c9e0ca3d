"""Signing devices out asks for the password again (OWASP ASVS 5.0, 7.5.2).

A wrong password ends nothing, is recorded (trail, LOGS) and counts toward the sign-in lockout;
the page comes back with the error next to that form's field. Another person's session id is
answered like an unknown id whatever password is sent, and counts nothing.
"""

from __future__ import annotations

import re
import uuid

from django.test import Client
from django.urls import reverse

from clinicportal.accounts import throttle
from clinicportal.accounts.models import LoginFailure, OfficeSession, PortalSession
from clinicportal.audit.models import AuditEvent
from tests.conftest import GUARDIAN_PASSWORD, NEW_PASSWORD, PASSWORD, add_guardian, login
from tests.test_sessions import (
    CHROME_MAC,
    alice_of,
    end_all,
    end_one,
    office_sign_in,
    portal_sign_in,
)

WRONG = "not-my-password-at-all"
NOT_CURRENT = "That is not your current password."


def actions(**filters: object) -> list[str]:
    return list(AuditEvent.objects.filter(**filters).values_list("action", flat=True))


def field_tag(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert match, f"no field {name}"
    return match.group(0)


# The office


def test_my_account_asks_for_the_password_in_each_sign_out_form(bob):
    laptop = office_sign_in("bob")
    office_sign_in("bob", CHROME_MAC)
    phone = OfficeSession.objects.exclude(session_key=laptop.session.session_key).get()
    html = laptop.get(reverse("office:account")).content.decode()
    one = field_tag(html, f"end-{phone.public_id}-password")
    assert 'type="password"' in one and 'autocomplete="current-password"' in one
    assert f'aria-describedby="session-{phone.public_id}"' in one  # names the device
    assert f'<label for="id_end-{phone.public_id}-password">Your password' in html
    everywhere = field_tag(html, "end-all-password")
    assert 'autocomplete="current-password"' in everywhere
    assert '<label for="id_end-all-password">Your password' in html


def test_a_wrong_password_signs_no_office_device_out(bob):
    laptop = office_sign_in("bob")
    phone = office_sign_in("bob", CHROME_MAC)
    row = OfficeSession.objects.get(session_key=phone.session.session_key)
    response = laptop.post(
        reverse("office:session_end", args=[row.public_id]), end_one(row.public_id, WRONG)
    )
    assert response.status_code == 200  # the page again, not a redirect
    html = response.content.decode()
    field_id = f"id_end-{row.public_id}-password"
    assert f'<div class="errors" id="{field_id}_error"><p>{NOT_CURRENT}</p></div>' in html
    tag = field_tag(html, f"end-{row.public_id}-password")
    assert 'aria-invalid="true"' in tag
    assert f'aria-describedby="session-{row.public_id} {field_id}_error"' in tag
    assert 'value="' not in tag  # the password is not sent back
    assert "end-all-password_error" not in html  # the other form is left blank
    assert phone.get("/office/patients/").status_code == 200
    assert OfficeSession.objects.filter(pk=row.pk).exists()
    assert actions(actor_user=bob.user, action__startswith="staff.session") == []
    assert "staff.password_check_failed" in actions(actor_user=bob.user)
    assert LoginFailure.objects.filter(door="office", username_key="bob").count() == 1


def test_a_wrong_password_signs_out_nowhere_at_the_office(bob):
    laptop = office_sign_in("bob")
    phone = office_sign_in("bob", CHROME_MAC)
    response = laptop.post(reverse("office:sessions_end_all"), end_all(WRONG))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<div class="errors" id="id_end-all-password_error"><p>{NOT_CURRENT}</p></div>' in html
    assert 'aria-describedby="id_end-all-password_error"' in field_tag(html, "end-all-password")
    assert "Clear-Site-Data" not in response
    assert laptop.get("/office/patients/").status_code == 200
    assert phone.get("/office/patients/").status_code == 200
    assert OfficeSession.objects.count() == 2
    bobs = actions(actor_user=bob.user)
    assert "staff.password_check_failed" in bobs
    assert "staff.other_sessions_ended" not in bobs and "staff.logout" not in bobs


def test_wrong_passwords_when_signing_out_devices_count_toward_the_office_lockout(bob):
    laptop = office_sign_in("bob")
    phone = office_sign_in("bob", CHROME_MAC)
    row = OfficeSession.objects.get(session_key=phone.session.session_key)
    url = reverse("office:session_end", args=[row.public_id])
    for _ in range(throttle.PER_USERNAME - 1):
        laptop.post(url, end_one(row.public_id, WRONG))
    laptop.post(reverse("office:sessions_end_all"), end_all(WRONG))
    # Paused now: even the right password ends nothing, and the door refuses a new sign-in.
    html = laptop.post(url, end_one(row.public_id, PASSWORD)).content.decode()
    assert "Too many sign-in attempts" in html
    assert phone.get("/office/patients/").status_code == 200
    assert "staff.locked_out" in actions(actor_user=bob.user)
    refused = Client().post(reverse("office:login"), {"username": "bob", "password": PASSWORD})
    assert "Too many sign-in attempts" in refused.content.decode()


def test_an_empty_password_is_asked_for_and_counts_nothing(bob):
    laptop = office_sign_in("bob")
    phone = office_sign_in("bob", CHROME_MAC)
    row = OfficeSession.objects.get(session_key=phone.session.session_key)
    response = laptop.post(reverse("office:session_end", args=[row.public_id]))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert laptop.post(reverse("office:sessions_end_all")).status_code == 200
    assert OfficeSession.objects.count() == 2
    assert not LoginFailure.objects.exists()
    assert "staff.password_check_failed" not in actions(actor_user=bob.user)


def test_another_staff_members_session_is_an_unknown_id_whatever_the_password(bob, alice):
    """The id is looked at before the password: nothing to learn, and no guess counted."""
    bob_client = office_sign_in("bob")
    alice_client = login(Client(), alice)
    alices = OfficeSession.objects.get(user=alice.user)
    unknown_id = uuid.UUID(int=404)
    for password in (WRONG, "", PASSWORD):
        theirs = bob_client.post(
            reverse("office:session_end", args=[alices.public_id]),
            end_one(alices.public_id, password),
        )
        unknown = bob_client.post(
            reverse("office:session_end", args=[unknown_id]), end_one(unknown_id, password)
        )
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.content == unknown.content
    assert alice_client.get("/office/patients/").status_code == 200
    assert not LoginFailure.objects.exists()
    assert "staff.password_check_failed" not in actions(actor_user=bob.user)


# The portal


def test_a_wrong_password_signs_no_portal_device_out(ada_portal, patient_a):
    phone = portal_sign_in("ada", NEW_PASSWORD, CHROME_MAC)
    other = PortalSession.objects.get(session_key=ada_portal.session.session_key)
    response = phone.post(
        f"/p/clinic-x/account/sessions/{other.public_id}/end/", end_one(other.public_id, WRONG)
    )
    assert response.status_code == 200
    html = response.content.decode()
    field_id = f"id_end-{other.public_id}-password"
    assert f'<div class="errors" id="{field_id}_error"><p>{NOT_CURRENT}</p></div>' in html
    tag = field_tag(html, f"end-{other.public_id}-password")
    assert f'aria-describedby="session-{other.public_id} {field_id}_error"' in tag
    assert ada_portal.get("/p/clinic-x/records/").status_code == 200
    assert "portal.session_ended" not in actions(patient=patient_a)
    assert "portal.password_check_failed" in actions(patient=patient_a)
    assert LoginFailure.objects.filter(door="portal", username_key="ada").count() == 1


def test_a_wrong_password_signs_out_nowhere_in_the_portal(ada_portal, patient_a):
    phone = portal_sign_in("ada", NEW_PASSWORD, CHROME_MAC)
    response = phone.post("/p/clinic-x/account/sessions/end/", end_all(WRONG))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<div class="errors" id="id_end-all-password_error"><p>{NOT_CURRENT}</p></div>' in html
    assert phone.get("/p/clinic-x/records/").status_code == 200
    assert ada_portal.get("/p/clinic-x/records/").status_code == 200
    assert PortalSession.objects.count() == 2
    logged = actions(patient=patient_a)
    assert "portal.password_check_failed" in logged
    assert "portal.other_sessions_ended" not in logged and "portal.logout" not in logged


def test_wrong_passwords_when_signing_out_devices_count_toward_the_portal_lockout(
    ada_portal, patient_a
):
    phone = portal_sign_in("ada", NEW_PASSWORD, CHROME_MAC)
    for _ in range(throttle.PER_USERNAME):
        phone.post("/p/clinic-x/account/sessions/end/", end_all(WRONG))
    html = phone.post("/p/clinic-x/account/sessions/end/", end_all(NEW_PASSWORD)).content.decode()
    assert "Too many sign-in attempts" in html
    assert PortalSession.objects.count() == 2
    assert "portal.locked_out" in actions(patient=patient_a)
    refused = Client().post("/p/clinic-x/login/", {"username": "ada", "password": NEW_PASSWORD})
    assert "Too many sign-in attempts" in refused.content.decode()


def test_another_accounts_portal_session_is_an_unknown_id_whatever_the_password(
    ada_portal, practice_x, patient_a
):
    add_guardian(alice_of(practice_x), patient_a)
    mary = portal_sign_in("mary", GUARDIAN_PASSWORD)
    marys = PortalSession.objects.get(session_key=mary.session.session_key)
    unknown_id = uuid.UUID(int=404)
    for password in (WRONG, "", NEW_PASSWORD):
        theirs = ada_portal.post(
            f"/p/clinic-x/account/sessions/{marys.public_id}/end/",
            end_one(marys.public_id, password),
        )
        unknown = ada_portal.post(
            f"/p/clinic-x/account/sessions/{unknown_id}/end/", end_one(unknown_id, password)
        )
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.content == unknown.content
    assert mary.get("/p/clinic-x/records/").status_code == 200
    assert not LoginFailure.objects.exists()
    assert "portal.password_check_failed" not in actions(patient=patient_a)
