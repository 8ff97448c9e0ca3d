"""Who may open which office page: staff of the practice only, admins for Admin."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from tests.conftest import PASSWORD, add_chart_pdf, office_sign_in, searched


def patient_urls(patient, chart_file) -> list[str]:
    p, f = patient.public_id, chart_file.public_id
    return [
        reverse("office:patient", args=[p]),
        reverse("office:patient_edit", args=[p]),
        reverse("office:chart_file_upload", args=[p]),
        reverse("office:chart_file_preview", args=[p, f]),
        reverse("office:chart_file_inline", args=[p, f]),
        reverse("office:chart_file_download", args=[p, f]),
        reverse("office:portal_document_upload", args=[p]),
        reverse("office:portal_document_assign_system", args=[p]),
        reverse("office:portal_document_assign_other", args=[p]),
        reverse("office:portal_document_search_online", args=[p]),
    ]


@pytest.fixture
def chart_file_a(alice, patient_a):
    return add_chart_pdf(alice, patient_a, description="Exam")


def test_it_sends_anonymous_visitors_to_the_login(db, patient_a, chart_file_a):
    client = Client()
    general = [
        reverse(name)
        for name in (
            "office:home",
            "office:patients",
            "office:patient_create",
            "office:tasks",
            "office:billing",
            "office:settings",
            "office:settings_website",
        )
    ]
    for url in general + patient_urls(patient_a, chart_file_a):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/office/login/?next="), url


def test_a_file_of_another_patient_is_404_under_this_patient(alice_client, patient_b, chart_file_a):
    for name in ("chart_file_preview", "chart_file_inline", "chart_file_download"):
        url = reverse(f"office:{name}", args=[patient_b.public_id, chart_file_a.public_id])
        assert alice_client.get(url).status_code == 404, name


def test_patients_of_another_practice_are_not_listed(carol_client, patient_a, patient_c):
    response = carol_client.get(reverse("office:patients"))
    assert b"Babbage" in response.content
    assert b"Lovelace" not in response.content
    response = searched(carol_client, reverse("office:patients"), "Lovelace")
    assert b"Lovelace, Ada" not in response.content
    assert b"No patients match" in response.content


def test_only_admins_see_and_open_admin(alice_client, bob_client):
    assert b'href="/office/settings/"' in alice_client.get(reverse("office:patients")).content
    assert b'href="/office/settings/"' not in bob_client.get(reverse("office:patients")).content
    assert bob_client.get(reverse("office:settings_website")).status_code == 403
    assert alice_client.get(reverse("office:settings_website")).status_code == 200


def test_the_console_has_its_navigation(alice_client):
    html = alice_client.get(reverse("office:patients")).content.decode()
    for label in ("Patients", "Tasks", "Billing", "Admin"):
        assert f">{label}</a>" in html
    assert 'aria-current="page">Patients' in html


def test_staff_sign_in_with_their_password_and_it_is_recorded(bob, client):
    response = office_sign_in(client, bob)
    assert response.status_code == 302
    assert response["Location"] == reverse("office:home")
    assert AuditEvent.objects.filter(actor_user=bob.user, action="staff.login").count() == 1
    assert bob.user.password.startswith("argon2$argon2id$")


def test_a_wrong_password_is_refused_kindly(bob, client):
    response = client.post(reverse("office:login"), {"username": "bob", "password": "nope"})
    assert response.status_code == 200
    assert b"do not match" in response.content
    assert "_auth_user_id" not in client.session


def test_a_user_without_staff_membership_cannot_sign_in(db, client):
    from clinicportal.accounts.models import User

    User.objects.create_user(username="drifter", password=PASSWORD)
    response = client.post(reverse("office:login"), {"username": "drifter", "password": PASSWORD})
    assert response.status_code == 200
    assert b"not active" in response.content


def test_a_new_session_starts_at_sign_in(bob, client):
    client.get(reverse("office:login"))
    client.cookies["sessionid"] = "attacker-chosen"
    office_sign_in(client, bob)
    assert client.cookies["sessionid"].value != "attacker-chosen"
    assert client.get(reverse("office:patients")).status_code == 200


def test_sign_out_needs_post_and_ends_the_session(bob_client, bob):
    assert bob_client.get(reverse("office:logout")).status_code == 405
    response = bob_client.post(reverse("office:logout"))
    assert response.status_code == 302
    assert bob_client.get(reverse("office:patients")).status_code == 302
    assert AuditEvent.objects.filter(actor_user=bob.user, action="staff.logout").exists()


def test_a_deactivated_staff_member_is_signed_out(bob_client, bob):
    bob.is_active = False
    bob.save()
    response = bob_client.get(reverse("office:patients"))
    assert response.status_code == 302
    assert response["Location"].startswith("/office/login/")


def test_pages_carry_a_strict_content_security_policy(alice_client):
    response = alice_client.get(reverse("office:patients"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_repeated_office_failures_pause_sign_in(bob, client):
    for _ in range(5):
        client.post(reverse("office:login"), {"username": "bob", "password": "wrong-guess-here"})
    response = client.post(reverse("office:login"), {"username": "bob", "password": PASSWORD})
    assert "sign-in is paused for 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    from clinicportal.accounts.models import LoginFailure

    LoginFailure.objects.all().delete()
    assert (
        client.post(reverse("office:login"), {"username": "bob", "password": PASSWORD}).status_code
        == 302
    )


def test_an_idle_office_session_is_signed_out_by_the_server(bob_client, bob, settings):
    import time

    from clinicportal.office.auth import SEEN

    assert bob_client.get(reverse("office:patients")).status_code == 200
    session = bob_client.session
    session[SEEN] = int(time.time()) - settings.CLINICPORTAL_OFFICE_IDLE_MINUTES * 60 + 60
    session.save()
    assert bob_client.get(reverse("office:patients")).status_code == 200  # still within it
    session = bob_client.session
    session[SEEN] = int(time.time()) - settings.CLINICPORTAL_OFFICE_IDLE_MINUTES * 60 - 1
    session.save()
    response = bob_client.get(reverse("office:patients"))
    assert response["Location"].startswith("/office/login/?next=")
    assert AuditEvent.objects.filter(action="staff.timed_out", actor_user=bob.user).exists()
    page = bob_client.get(response["Location"]).content.decode()
    assert "signed out after a time without activity" in page
    assert bob_client.get(reverse("office:patients")).status_code == 302  # signed out for good


def test_a_service_given_another_practices_patient_answers_not_found_not_a_crash(carol, patient_a):
    from django.http import Http404

    from clinicportal.accounts.services.portal_access import portal_access_issue
    from clinicportal.core.access import NotFound
    from tests.conftest import actor

    with pytest.raises(NotFound) as refused:
        portal_access_issue(actor=actor(carol), patient=patient_a, username="x", password=None)
    assert isinstance(refused.value, Http404)  # the same 404 page as an unknown id


def test_a_portal_service_without_a_chosen_patient_answers_not_found(ada_portal):
    from clinicportal.accounts.models import PortalAccount
    from clinicportal.core.access import NotFound
    from clinicportal.core.context import PortalActor
    from clinicportal.records.services import portal_records_download_all

    account = PortalAccount.objects.get(username="ada")
    with pytest.raises(NotFound):
        portal_records_download_all(actor=PortalActor(account=account, patient=None))
