"""The office signs one portal login out everywhere (left open on a shared computer)."""

from __future__ import annotations

import datetime

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinicportal.accounts.models import PortalAccount, PortalGrant, PortalSession
from clinicportal.audit.models import AuditEvent
from tests.conftest import GUARDIAN_PASSWORD, NEW_PASSWORD, add_guardian, portal_login

LOGS = "/p/clinic-x/logs/"


def sign_out_url(patient, grant) -> str:
    return reverse("office:portal_user_sign_out", args=[patient.public_id, grant.public_id])


def signed_in(client: Client) -> bool:
    return client.get(LOGS).status_code == 200


def test_staff_sign_the_patient_out_everywhere_after_asking(
    bob_client, practice_x, patient_a, ada_portal
):
    laptop = Client()
    portal_login(laptop, practice_x, "ada", NEW_PASSWORD)
    assert signed_in(ada_portal) and signed_in(laptop)
    own = PortalGrant.objects.get(patient=patient_a, kind=PortalGrant.Kind.PATIENT)
    password = PortalAccount.objects.get(username="ada").password

    page = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert f'href="{sign_out_url(patient_a, own)}"' in page
    asked = bob_client.get(sign_out_url(patient_a, own)).content.decode()
    assert "Sign Ada Lovelace out of the portal everywhere?" in asked
    assert "is signed in on 2 devices now." in asked
    assert "To change the password too, reissue it instead." in asked
    assert PortalSession.objects.count() == 2  # asking changed nothing

    done = bob_client.post(sign_out_url(patient_a, own), follow=True)
    assert "Ada Lovelace was signed out of the portal everywhere." in done.content.decode()
    assert not PortalSession.objects.exists()
    assert not signed_in(ada_portal) and not signed_in(laptop)
    assert PortalAccount.objects.get(username="ada").password == password  # it stays

    # She signs in again with her own password, and LOGS tells her what happened.
    again = Client()
    portal_login(again, practice_x, "ada", NEW_PASSWORD)
    logs = again.get(LOGS).content.decode()
    assert "Signed out everywhere by the office" in logs
    event = AuditEvent.objects.get(action=AuditEvent.Action.PORTAL_SIGNED_OUT_BY_OFFICE)
    assert event.patient == patient_a
    assert event.actor_user is not None and event.actor_user.username == "bob"


def test_an_authorized_user_is_signed_out_and_the_patient_is_not(
    bob_client, alice, practice_x, patient_a, ada_portal
):
    issued = add_guardian(alice, patient_a)
    mary = Client()
    portal_login(mary, practice_x, "mary", GUARDIAN_PASSWORD)
    assert signed_in(mary)
    grant = PortalGrant.objects.get(account=issued.account)
    page = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert f'href="{sign_out_url(patient_a, grant)}"' in page

    asked = bob_client.get(sign_out_url(patient_a, grant)).content.decode()
    assert "remove the authorized user instead" in asked and "reissue" not in asked
    bob_client.post(sign_out_url(patient_a, grant))
    assert not signed_in(mary)
    assert signed_in(ada_portal)
    assert PortalGrant.objects.filter(account=issued.account).exists()  # still authorized


def test_a_login_signed_in_nowhere_is_said_and_a_stale_session_is_not_counted(
    bob_client, practice_x, patient_a, issue_access
):
    username, temporary = issue_access(patient_a, "ada")
    portal_login(Client(), practice_x, username, temporary)
    # Left idle past the practice's time-out: the server would refuse it anyway.
    PortalSession.objects.update(last_seen_at=timezone.now() - datetime.timedelta(days=1))
    own = PortalGrant.objects.get(patient=patient_a)
    asked = bob_client.get(sign_out_url(patient_a, own)).content.decode()
    assert "is not signed in anywhere now." in asked
    done = bob_client.post(sign_out_url(patient_a, own), follow=True)
    assert "was signed out of the portal everywhere." in done.content.decode()
    assert not PortalSession.objects.exists()


def test_another_patients_login_is_404_through_this_patient(
    bob_client, patient_a, patient_b, issue_access
):
    issue_access(patient_b, "blaise")
    hers = PortalGrant.objects.get(patient=patient_b)
    assert bob_client.get(sign_out_url(patient_a, hers)).status_code == 404
    assert bob_client.post(sign_out_url(patient_a, hers)).status_code == 404
    assert not AuditEvent.objects.filter(
        action=AuditEvent.Action.PORTAL_SIGNED_OUT_BY_OFFICE
    ).exists()
