"""The office turns two-step sign-in off for a patient's portal login, after asking: for an
owner who lost their authenticator and their recovery codes. Every device is signed out, the
owner is told by email, and LOGS shows it."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from clinicportal.accounts.models import PortalGrant, PortalSession, TwoFactorDevice
from clinicportal.audit.models import AuditEvent
from clinicportal.notifications.models import OutboxEmail
from tests.conftest import GUARDIAN_PASSWORD, NEW_PASSWORD, add_guardian, portal_login
from tests.test_two_factor import turn_on

RESET = AuditEvent.Action.PORTAL_TWO_FACTOR_RESET
TOLD = "Clinic X Eye Care turned off two-step sign-in for your portal account"


def off_url(patient, grant) -> str:
    return reverse("office:portal_user_two_step_off", args=[patient.public_id, grant.public_id])


def patient_page(client: Client, patient) -> str:
    return client.get(reverse("office:patient", args=[patient.public_id])).text


def test_staff_turn_it_off_after_asking_and_she_signs_in_with_her_password(
    bob_client, practice_x, patient_a, ada_portal
):
    turn_on(ada_portal)
    own = PortalGrant.objects.get(patient=patient_a, kind=PortalGrant.Kind.PATIENT)
    page = patient_page(bob_client, patient_a)
    assert "<dt>Two-step sign-in</dt><dd>On</dd>" in page
    assert f'href="{off_url(patient_a, own)}"' in page

    asked = bob_client.get(off_url(patient_a, own)).text
    assert "Turn off two-step sign-in for Ada Lovelace?" in asked
    assert "after checking who they are" in asked
    assert TwoFactorDevice.objects.exists() and PortalSession.objects.exists()  # asking: nothing

    done = bob_client.post(off_url(patient_a, own), follow=True).text
    assert "Two-step sign-in is off for Ada Lovelace, who was told by email." in done
    assert "<dt>Two-step sign-in</dt><dd>Off</dd>" in done
    assert f'href="{off_url(patient_a, own)}"' not in done
    assert not TwoFactorDevice.objects.exists() and not PortalSession.objects.exists()
    (told,) = OutboxEmail.objects.filter(subject=TOLD, to="ada@example.com")
    assert "If you did not ask the office for this" in told.body_text

    again = Client()
    assert portal_login(again, practice_x, "ada", NEW_PASSWORD)["Location"] == "/p/clinic-x/"
    assert "Two-step sign-in turned off by the office" in again.get("/p/clinic-x/logs/").text
    event = AuditEvent.objects.get(action=RESET)
    assert event.patient == patient_a
    assert event.actor_user is not None and event.actor_user.username == "bob"


def test_a_second_click_changes_nothing_and_says_it_was_off(bob_client, patient_a, ada_portal):
    turn_on(ada_portal)
    own = PortalGrant.objects.get(patient=patient_a, kind=PortalGrant.Kind.PATIENT)
    bob_client.post(off_url(patient_a, own))
    again = bob_client.post(off_url(patient_a, own), follow=True).text
    assert "Two-step sign-in was already off for Ada Lovelace." in again
    assert AuditEvent.objects.filter(action=RESET).count() == 1
    assert OutboxEmail.objects.filter(subject=TOLD).count() == 1
    assert "there is nothing to turn off" in bob_client.get(off_url(patient_a, own)).text


def test_an_authorized_users_row_offers_it_only_while_it_is_on(
    alice, bob_client, practice_x, patient_a
):
    mary = add_guardian(alice, patient_a)
    grant = PortalGrant.objects.get(account=mary.account, patient=patient_a)
    assert f'href="{off_url(patient_a, grant)}"' not in patient_page(bob_client, patient_a)
    client = Client()
    portal_login(client, practice_x, "mary", GUARDIAN_PASSWORD)
    client.post("/p/clinic-x/choose/", {"patient": str(patient_a.public_id)})
    TwoFactorDevice.objects.create(
        portal_account=mary.account, secret="A" * 32, confirmed_at="2026-11-01T00:00Z"
    )
    assert f'href="{off_url(patient_a, grant)}"' in patient_page(bob_client, patient_a)
    bob_client.post(off_url(patient_a, grant))
    assert not TwoFactorDevice.objects.exists()


def test_another_patients_login_is_404_through_this_patient_and_changes_nothing(
    bob_client, patient_a, patient_b, issue_access
):
    issue_access(patient_b, "blaise")
    hers = PortalGrant.objects.get(patient=patient_b)
    TwoFactorDevice.objects.create(
        portal_account=hers.account, secret="A" * 32, confirmed_at="2026-11-01T00:00Z"
    )
    assert bob_client.get(off_url(patient_a, hers)).status_code == 404
    assert bob_client.post(off_url(patient_a, hers)).status_code == 404
    assert TwoFactorDevice.objects.exists() and not AuditEvent.objects.filter(action=RESET)
