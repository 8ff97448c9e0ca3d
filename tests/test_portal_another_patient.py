"""A guardian of two children opens the second in another tab, then sends a page of the first.

Every form that acts for the chosen patient carries that patient's id (for_patient). A page sent
after another patient was opened acts for the patient whose page it was, and opens their portal
again, saying so: no message, form, booking or payment lands in the wrong child's records, and
nothing typed is lost. A page for a patient the account no longer opens does nothing (409).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from clinicportal.accounts.services.portal_access import authorized_user_link
from clinicportal.messaging.models import Message
from clinicportal.patients.models import Patient
from tests.conftest import GUARDIAN_PASSWORD, actor, add_guardian, portal_login
from tests.pages import without_form_values
from tests.test_portal_messages import NEW, send

PORTAL = "/p/clinic-x/"
TEMPLATES = Path(__file__).resolve().parent.parent / "clinicportal" / "portal" / "templates"
# Forms that act for no one patient: signing in and out, the account's own settings, choosing.
NOT_FOR_A_PATIENT = {
    "portal/account.html",
    "portal/base.html",
    "portal/choose_patient.html",
    "portal/forgot_password.html",
    "portal/login.html",
    "portal/login_code.html",
    "portal/password_link.html",
    "portal/set_password.html",
    "portal/two_factor_setup.html",
    "portal/recovery_codes.html",
    "portal/patient_not_yours.html",
}


@pytest.fixture
def mary(alice, practice_x, patient_a: Patient, patient_b: Patient) -> Client:
    """Mary, the guardian of both Ada and Bea, signed in with Ada's portal open."""
    add_guardian(alice, patient_a)
    authorized_user_link(actor=actor(alice), patient=patient_b, username="mary", note="mother")
    client = Client()
    portal_login(client, practice_x, "mary", GUARDIAN_PASSWORD)
    choose(client, patient_a)
    return client


def choose(client: Client, patient: Patient) -> None:
    answer = client.post(f"{PORTAL}choose/", {"patient": str(patient.public_id)})
    assert answer.status_code == 302, answer.status_code


def for_patient(html: str) -> str:
    found = re.search(r'name="for_patient" value="([^"]*)"', html)
    assert found is not None, "the form does not say whose it is"
    return found[1]


def test_a_message_written_for_one_child_goes_to_that_child_after_the_other_is_opened(
    mary, patient_a, patient_b
):
    page = mary.get(NEW).content.decode()
    assert for_patient(page) == str(patient_a.public_id)
    choose(mary, patient_b)  # in another tab
    answer = send(mary, for_patient=str(patient_a.public_id), body="Ada's drops, please.")
    assert answer.status_code == 302
    message = Message.objects.get(writer="patient")
    assert message.conversation.patient_id == patient_a.pk and "Ada's drops" in message.body
    # Ada's portal is open again, and the next page says why.
    shown = mary.get(answer["Location"]).content.decode()
    assert "That page was for Ada Lovelace, so it was taken for Ada Lovelace" in shown
    assert for_patient(mary.get(NEW).content.decode()) == str(patient_a.public_id)


def test_a_page_of_the_child_open_now_is_sent_as_ever(mary, patient_b):
    choose(mary, patient_b)
    assert for_patient(mary.get(NEW).content.decode()) == str(patient_b.public_id)
    answer = send(mary, for_patient=str(patient_b.public_id))
    assert answer.status_code == 302
    assert Message.objects.get(writer="patient").conversation.patient_id == patient_b.pk
    assert "That page was for" not in mary.get(answer["Location"]).content.decode()


def test_a_page_of_a_child_no_longer_granted_does_nothing(mary, alice, patient_a, patient_b):
    """The office removed Mary's access to Ada while Ada's page was open: nothing is sent."""
    from clinicportal.accounts.models import PortalGrant

    choose(mary, patient_b)
    PortalGrant.objects.filter(account__username="mary", patient=patient_a).delete()
    answer = send(mary, for_patient=str(patient_a.public_id))
    assert answer.status_code == 409
    shown = without_form_values(answer.content.decode())  # "Ada" may be in its CSRF token
    assert "no longer opens, so nothing was sent" in shown and patient_a.first_name not in shown
    assert not Message.objects.exists()


def test_another_patients_id_does_nothing_and_names_no_one(ada_portal, patient_b):
    answer = send(ada_portal, for_patient=str(patient_b.public_id))
    assert answer.status_code == 409
    assert patient_b.first_name not in answer.content.decode()
    assert not Message.objects.exists()


def test_every_form_that_acts_for_the_patient_says_whose_it_is():
    """A new form for the chosen patient must carry for_patient, or the check never runs."""
    missing = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        text = path.read_text()
        posts = 'method="post"' in text and name not in NOT_FOR_A_PATIENT
        if posts and "portal/includes/for_patient.html" not in text:
            missing.append(name)
    assert missing == []


def test_the_menu_counts_the_unread_messages_of_the_patient_open(mary, alice, patient_a, patient_b):
    from clinicportal.messaging.services import Draft, office_send
    from tests.test_portal_messages_reading import menu_link

    def write(patient: Patient, subject: str) -> None:
        office_send(
            actor=actor(alice),
            patient=patient,
            draft=Draft(body="Please call us."),
            subject=subject,
            send_email=False,
        )

    write(patient_a, "Your drops")
    write(patient_b, "Your glasses")
    write(patient_b, "Your visit")
    records = f"{PORTAL}records/"
    assert ", 1 unread" in menu_link(mary.get(records).content.decode())  # Ada's
    choose(mary, patient_b)
    assert ", 2 unread" in menu_link(mary.get(records).content.decode())  # Bea's


def test_an_account_left_with_no_patient_is_asked_to_choose_and_sees_none(
    mary, alice, patient_a, patient_b
):
    """Its grants were taken away while it was signed in (the account itself stays active)."""
    from clinicportal.accounts.models import PortalAccount, PortalGrant

    PortalGrant.objects.filter(account__username="mary").delete()
    PortalAccount.objects.filter(username="mary").update(is_active=True)
    answer = mary.get(f"{PORTAL}records/")
    assert answer.status_code == 302 and answer["Location"] == f"{PORTAL}choose/"
    choosing = mary.get(f"{PORTAL}choose/").content.decode()
    assert patient_a.full_name not in choosing and patient_b.full_name not in choosing
