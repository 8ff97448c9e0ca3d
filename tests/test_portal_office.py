"""The office side of portal access: issuing credentials and authorized web users."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.accounts.models import PortalAccount, PortalGrant, PortalSession
from clinicportal.audit.models import AuditEvent
from tests.conftest import PASSWORD, portal_login


def access_url(patient) -> str:
    return reverse("office:portal_access", args=[patient.public_id])


def test_default_proposes_a_free_readable_username_and_leaves_the_password_to_the_service(
    bob_client, patient_a
):
    response = bob_client.post(access_url(patient_a), {"action": "default"})
    html = response.content.decode()
    assert 'value="alovelace"' in html
    assert re.search(r'name="password"[^>]*value="', html) is None  # no password in the page
    assert "a strong temporary one is made when you save" in html
    assert not PortalAccount.objects.exists()
    issued = bob_client.post(
        access_url(patient_a), {"action": "issue", "username": "alovelace", "password": ""}
    ).content.decode()
    found = re.search(r"data-slip-password>([^<]+)<", issued)
    assert found is not None
    password = found.group(1)
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password)
    assert PortalAccount.objects.get().password_is_temporary


def test_default_for_an_authorized_user_gives_a_temporary_password(bob_client, patient_a):
    url = reverse("office:authorized_user_add", args=[patient_a.public_id])
    fields = {"display_name": "Mary Lovelace", "username": "mary", "note": "mother", "email": ""}
    page = bob_client.post(url, {**fields, "password": "typed-then-default", "action": "default"})
    html = page.content.decode()
    assert "typed-then-default" not in html
    assert re.search(r'name="password"[^>]*value="', html) is None
    slip = bob_client.post(url, {**fields, "password": "", "action": "add"}).content.decode()
    found = re.search(r"data-slip-password>([^<]+)<", slip)
    assert found is not None
    password = found.group(1)
    account = PortalAccount.objects.get(username="mary")
    assert account.password_is_temporary and account.temporary_password_expires_at is not None
    mary = Client()
    mary.post("/p/clinic-x/login/", {"username": "mary", "password": password})
    home = mary.get("/p/clinic-x/records/")
    assert home["Location"] == "/p/clinic-x/password/"  # must choose their own first


def test_issuing_access_shows_the_password_once_and_stores_only_its_hash(
    bob_client, bob, patient_a
):
    response = bob_client.post(
        access_url(patient_a), {"action": "issue", "username": "ada.l", "password": ""}
    )
    html = response.content.decode()
    found = re.search(r"data-slip-password>([^<]+)<", html)
    assert found is not None
    password = found.group(1)
    account = PortalAccount.objects.get()
    assert account.username == "ada.l" and account.password_is_temporary
    assert account.password.startswith("argon2$argon2id$")
    assert password not in account.password
    assert "http://testserver/p/clinic-x/" in html and "Use it before" in html
    assert "no-store" in response["Cache-Control"]
    assert PortalGrant.objects.get().patient == patient_a
    event = AuditEvent.objects.get(action="portal.access_issued")
    assert (event.patient, event.actor_user) == (patient_a, bob.user)
    detail = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert "ada.l" in detail and password not in detail


def test_staff_may_type_their_own_temporary_password(bob_client, patient_a, client, practice_x):
    bob_client.post(
        access_url(patient_a), {"username": "ada", "password": "sunlit-harbor-quartz-51"}
    )
    assert PortalAccount.objects.get().password_is_temporary
    response = portal_login(client, practice_x, "ada", "sunlit-harbor-quartz-51")
    assert response["Location"] == "/p/clinic-x/"


def test_a_weak_typed_password_is_refused_next_to_the_field(bob_client, patient_a):
    response = bob_client.post(access_url(patient_a), {"username": "ada", "password": "password"})
    html = response.content.decode()
    assert "too short" in html and "too common" in html
    assert 'value="ada"' in html
    assert not PortalAccount.objects.exists()


def test_reissuing_replaces_the_password_and_ends_sessions(
    bob_client, patient_a, client, practice_x
):
    bob_client.post(access_url(patient_a), {"username": "ada", "password": ""})
    first = PortalAccount.objects.get().password
    bob_client.post(
        access_url(patient_a), {"username": "ada", "password": "sunlit-harbor-quartz-51"}
    )
    portal_login(client, practice_x, "ada", "sunlit-harbor-quartz-51")
    assert PortalSession.objects.count() == 1
    bob_client.post(access_url(patient_a), {"username": "ada", "password": ""})
    account = PortalAccount.objects.get()
    assert account.password != first
    assert PortalSession.objects.count() == 0
    assert client.get("/p/clinic-x/logs/")["Location"].startswith("/p/clinic-x/login/")


def test_a_taken_username_is_said_next_to_the_field(bob_client, patient_a, patient_b):
    bob_client.post(access_url(patient_a), {"username": "Ada", "password": ""})
    response = bob_client.post(access_url(patient_b), {"username": "ada", "password": ""})
    assert "This username is taken in this practice" in response.content.decode()
    assert PortalAccount.objects.count() == 1


def test_the_same_username_may_exist_in_two_practices(
    bob_client, carol_client, patient_a, patient_c
):
    bob_client.post(access_url(patient_a), {"username": "sam", "password": ""})
    carol_client.post(access_url(patient_c), {"username": "sam", "password": ""})
    assert PortalAccount.objects.filter(username="sam").count() == 2


def test_staff_of_another_practice_get_404_on_portal_pages(carol_client, patient_a, bob_client):
    bob_client.post(
        reverse("office:authorized_user_add", args=[patient_a.public_id]),
        {"display_name": "Mary Lovelace", "username": "mary", "password": "", "note": "mother"},
    )
    grant = PortalGrant.objects.get()
    urls = [
        access_url(patient_a),
        reverse("office:authorized_user_add", args=[patient_a.public_id]),
        reverse("office:authorized_user_remove", args=[patient_a.public_id, grant.public_id]),
    ]
    for url in urls:
        assert carol_client.get(url).status_code == 404, url
        assert carol_client.post(url, {"username": "x"}).status_code == 404, url
    assert (
        carol_client.post(
            reverse("office:authorized_user_link", args=[patient_a.public_id])
        ).status_code
        == 404
    )
    assert PortalGrant.objects.count() == 1
    anonymous = Client().get(access_url(patient_a))
    assert anonymous["Location"].startswith("/office/login/")


def test_a_grant_of_another_patient_is_404_under_this_patient(
    bob_client, alice, patient_a, patient_b
):
    from tests.conftest import add_guardian

    add_guardian(alice, patient_a)
    grant = PortalGrant.objects.get()
    url = reverse("office:authorized_user_remove", args=[patient_b.public_id, grant.public_id])
    assert bob_client.get(url).status_code == 404
    assert bob_client.post(url).status_code == 404
    assert PortalGrant.objects.filter(pk=grant.pk).exists()


def test_an_authorized_user_gets_the_password_they_asked_for_as_a_temporary_one(
    bob_client, patient_a, client, practice_x
):
    response = bob_client.post(
        reverse("office:authorized_user_add", args=[patient_a.public_id]),
        {
            "display_name": "Mary Lovelace",
            "username": "mary",
            "password": "willow-kettle-sparrow-8",
            "note": "mother",
        },
    )
    assert "data-slip-password>willow-kettle-sparrow-8<" in response.content.decode()
    assert "Temporary password" in response.content.decode()
    account = PortalAccount.objects.get(username="mary")
    assert account.password_is_temporary and account.temporary_password_expires_at is not None
    detail = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert "mary" in detail and "mother" in detail and "willow-kettle" not in detail
    assert ">Password<" not in detail.split("Authorized Web Users")[1]
    assert (
        portal_login(client, practice_x, "mary", "willow-kettle-sparrow-8")["Location"]
        == "/p/clinic-x/"
    )
    assert client.get("/p/clinic-x/logs/")["Location"] == "/p/clinic-x/password/"


def test_one_authorized_user_can_see_several_patients(bob_client, patient_a, patient_b):
    bob_client.post(
        reverse("office:authorized_user_add", args=[patient_a.public_id]),
        {"display_name": "Mary Lovelace", "username": "mary", "password": "", "note": "mother"},
    )
    response = bob_client.post(
        reverse("office:authorized_user_link", args=[patient_b.public_id]),
        {"username": "MARY", "note": "mother"},
    )
    assert response.status_code == 302
    assert PortalGrant.objects.filter(account__username="mary").count() == 2


def test_linking_an_unknown_or_patient_username_is_refused(bob_client, patient_a, patient_b):
    bob_client.post(access_url(patient_a), {"username": "ada", "password": ""})
    for username in ("nobody", "ada"):
        response = bob_client.post(
            reverse("office:authorized_user_link", args=[patient_b.public_id]),
            {"username": username},
        )
        assert response.status_code == 400
        assert (
            "No authorized web user of this practice has that username."
            in response.content.decode()
        )
    assert PortalGrant.objects.filter(patient=patient_b).count() == 0


def test_removing_an_authorized_user_asks_first_then_ends_their_sessions(
    bob_client, patient_a, client, practice_x
):
    bob_client.post(
        reverse("office:authorized_user_add", args=[patient_a.public_id]),
        {
            "display_name": "Mary Lovelace",
            "username": "mary",
            "password": "willow-kettle-sparrow-8",
            "note": "mother",
        },
    )
    portal_login(client, practice_x, "mary", "willow-kettle-sparrow-8")
    assert client.get("/p/clinic-x/password/").status_code == 200  # signed in, to choose hers
    grant = PortalGrant.objects.get()
    url = reverse("office:authorized_user_remove", args=[patient_a.public_id, grant.public_id])
    confirm = bob_client.get(url)
    assert "Yes, remove" in confirm.content.decode()
    assert PortalGrant.objects.exists()
    bob_client.post(url)
    assert not PortalGrant.objects.exists()
    assert not PortalAccount.objects.get(username="mary").is_active
    assert client.get("/p/clinic-x/logs/")["Location"].startswith("/p/clinic-x/login/")
    assert AuditEvent.objects.filter(
        action="portal.authorized_user_removed", patient=patient_a
    ).exists()


@pytest.mark.parametrize("field", ["display_name", "note", "username"])
def test_markup_in_names_shows_as_text_in_the_office(bob_client, patient_a, field):
    data = {"display_name": "Mary", "username": "mary", "password": "", "note": "mother"}
    data[field] = "<img/src=x/onerror=alert(1)>"
    bob_client.post(reverse("office:authorized_user_add", args=[patient_a.public_id]), data)
    assert PortalGrant.objects.exists()
    html = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert "<img/src=x" not in html
    assert "&lt;img/src=x/onerror=alert(1)&gt;" in html


def test_staff_password_is_not_a_portal_password(bob, client, practice_x):
    assert portal_login(client, practice_x, "bob", PASSWORD).status_code == 200
