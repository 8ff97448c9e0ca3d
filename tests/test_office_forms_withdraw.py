"""Withdrawing a form the office assigned by mistake, from the patient's page: a page asks,
"Yes, withdraw" does it once, the trail records it, and the portal lists the form no more."""

from __future__ import annotations

import re
import uuid
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.accounts.models import PortalAccount
from clinicportal.audit.models import PORTAL_LOG_ACTIONS, AuditEvent
from clinicportal.core.access import NotFound
from clinicportal.core.context import PortalActor
from clinicportal.intake.models import Form, FormAssignment, Submission
from clinicportal.intake.services import (
    AnswersInvalid,
    draft_save,
    form_assign,
    form_assignment_withdraw,
    submission_submit,
)
from clinicportal.office.once import FIELD
from clinicportal.office.views import forms_assign
from clinicportal.patients.models import Patient
from tests.conftest import actor
from tests.pages import page_text
from tests.races import at_once
from tests.schedule_setup import patient_actor
from tests.test_intake import GOOD, Posted
from tests.test_portal_forms import FORMS, form_url, forms_on, make_form
from tests.walk import changes, snapshot


@pytest.fixture
def intake(alice, patient_a) -> Form:
    forms_on(alice)
    return make_form(alice, patient_a)


def signed_in(patient: Patient) -> PortalActor:
    """The patient's own account, signed in to the portal already (ada_portal)."""
    account = PortalAccount.objects.select_related("practice").get(username="ada")
    return PortalActor(account=account, patient=patient)


def page_of(patient) -> str:
    return reverse("office:patient", args=[patient.public_id])


def withdraw_url(assignment: FormAssignment) -> str:
    return reverse(
        "office:form_withdraw", args=[assignment.patient.public_id, assignment.public_id]
    )


def asked(client: Client, assignment: FormAssignment) -> tuple[str, str]:
    """The page that asks, and the one-time token its "Yes, withdraw" posts."""
    response = client.get(withdraw_url(assignment))
    assert response.status_code == 200
    html = response.content.decode()
    token = re.search(rf'name="{FIELD}" value="([^"]+)"', html)
    assert token, "the page has no one-time token"
    return html, token.group(1)


def said(client: Client, response) -> str:
    """The words of the page a post was sent on to (its one-time message included)."""
    assert response.status_code == 302
    return page_text(client.get(response["Location"]).content.decode())


def test_staff_withdraw_a_waiting_form_after_a_page_asks(bob_client, bob, intake, patient_a):
    assignment = FormAssignment.objects.get()
    html = bob_client.get(page_of(patient_a)).content.decode()
    link = f'href="{withdraw_url(assignment)}">Withdraw<span class="visually-hidden"> New patient'
    assert link in html

    before = snapshot()
    html, token = asked(bob_client, assignment)
    assert changes(before, snapshot(), allowed=()) == []  # asking changes nothing
    words = page_text(html)
    assert "Withdraw “New patient intake” from Ada Lovelace?" in words
    assert "Ada no longer sees it under FORMS in the portal. Nothing is sent to them." in words
    assert "saved a draft" not in words
    assert '<form method="post" class="actions">' in html
    assert f'href="{page_of(patient_a)}#forms">Cancel</a>' in html

    response = bob_client.post(withdraw_url(assignment), {FIELD: token})
    assert response["Location"] == f"{page_of(patient_a)}#forms"
    assert "“New patient intake” was withdrawn: Ada no longer sees it under FORMS." in said(
        bob_client, response
    )
    assert not FormAssignment.objects.exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.FORM_ASSIGNMENT_WITHDRAWN)
    assert (event.actor_user, event.patient, event.object_label, event.object_id) == (
        bob.user,
        patient_a,
        "New patient intake",
        str(intake.public_id),
    )
    # The office's own work, like assigning: the trail keeps it; the patient's LOGS do not show it.
    assert event.action not in PORTAL_LOG_ACTIONS
    assert "No forms are waiting for Ada." in page_text(
        bob_client.get(page_of(patient_a)).content.decode()
    )


def test_the_portal_lists_it_no_more(bob_client, intake, ada_portal):
    assignment = FormAssignment.objects.get()
    assert "New patient intake" in page_text(ada_portal.get(FORMS).content.decode())
    _, token = asked(bob_client, assignment)
    bob_client.post(withdraw_url(assignment), {FIELD: token})
    assert "New patient intake" not in page_text(ada_portal.get(FORMS).content.decode())
    assert ada_portal.get(form_url(intake)).status_code == 404
    logs = page_text(ada_portal.get(reverse("portal:logs", args=["clinic-x"])).content.decode())
    assert "withdr" not in logs.lower()


def test_a_saved_draft_is_kept_out_of_sight_and_back_if_assigned_again(
    bob_client, alice, intake, patient_a, ada_portal
):
    ada = signed_in(patient_a)
    draft = draft_save(actor=ada, form=intake, version_number=1, posted=Posted({"f-name": "Ada"}))
    assignment = FormAssignment.objects.get()
    html, token = asked(bob_client, assignment)
    assert "Ada saved a draft of it on" in page_text(html)
    assert "The draft is kept, out of sight" in page_text(html)
    bob_client.post(withdraw_url(assignment), {FIELD: token})
    kept = Submission.objects.get()
    assert (kept.pk, kept.status, kept.answers, kept.assignment) == (
        draft.pk,
        Submission.Status.DRAFT,
        draft.answers,
        None,
    )
    assert kept.updated_at == draft.updated_at  # still when the patient saved it
    assert ada_portal.get(form_url(intake)).status_code == 404  # out of sight

    again = form_assign(actor=actor(alice), form=intake, patient=patient_a)
    assert 'value="Ada"' in ada_portal.get(form_url(intake)).content.decode()
    assert "Draft saved" in bob_client.get(page_of(patient_a)).content.decode()
    submission_submit(actor=ada, form=intake, version_number=1, posted=Posted(GOOD))
    done = Submission.objects.get()
    assert (done.pk, done.status, done.assignment) == (draft.pk, "submitted", again)


def test_a_form_offered_to_everyone_stays_offered(bob_client, alice, patient_a, ada_portal):
    forms_on(alice)
    offered = make_form(alice, patient_a, name="HIPAA acknowledgement", offered_to_all=True)
    assignment = FormAssignment.objects.get()
    html, token = asked(bob_client, assignment)
    assert "It is still offered to every patient under FORMS" in page_text(html)
    response = bob_client.post(withdraw_url(assignment), {FIELD: token})
    assert "It is still offered to every patient under FORMS, Ada included." in said(
        bob_client, response
    )
    assert not FormAssignment.objects.exists()
    assert ada_portal.get(form_url(offered)).status_code == 200


def test_a_submitted_form_cannot_be_withdrawn(bob_client, alice, intake, patient_a):
    assignment = FormAssignment.objects.get()
    _, token = asked(bob_client, assignment)  # the page asked while it was still waiting
    submission_submit(
        actor=patient_actor(alice, patient_a), form=intake, version_number=1, posted=Posted(GOOD)
    )
    before = snapshot()
    response = bob_client.post(withdraw_url(assignment), {FIELD: token})
    words = said(bob_client, response)
    assert (
        "“New patient intake” was submitted already, so it can no longer be withdrawn; "
        "its answers are under Submitted." in words
    )
    # Nothing but the one-time message, kept in the session.
    assert [c for c in changes(before, snapshot()) if not c.startswith("sessions.Session ")] == []
    assert FormAssignment.objects.get().completed_at is not None
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.FORM_ASSIGNMENT_WITHDRAWN)
    # Asked again, the page says so and offers nothing to press.
    html = bob_client.get(withdraw_url(assignment)).content.decode()
    words = page_text(html)
    assert "Ada Lovelace submitted “New patient intake” on" in words
    assert "so it can no longer be withdrawn." in words
    assert "Yes, withdraw" not in words and 'method="post"' not in html.split("<main")[-1]
    with pytest.raises(ValidationError):
        form_assignment_withdraw(actor=actor(alice), assignment=assignment)


def test_a_double_click_withdraws_once_and_both_say_so(bob_client, intake, patient_a):
    assignment = FormAssignment.objects.get()
    _, token = asked(bob_client, assignment)
    first = bob_client.post(withdraw_url(assignment), {FIELD: token})
    second = bob_client.post(withdraw_url(assignment), {FIELD: token})
    assert first["Location"] == second["Location"] == f"{page_of(patient_a)}#forms"
    assert "“New patient intake” was withdrawn" in said(bob_client, second)
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.FORM_ASSIGNMENT_WITHDRAWN).count() == 1
    )
    # A later post of another page, once it is gone, is an unknown id.
    assert bob_client.get(withdraw_url(assignment)).status_code == 404
    assert bob_client.post(withdraw_url(assignment)).status_code == 404


def test_a_withdrawal_in_another_tab_meanwhile_says_it_was_withdrawn(
    bob_client, alice, intake, patient_a, monkeypatch
):
    """The other tab's withdrawal lands after this post read the assignment, before it wrote."""
    assignment = FormAssignment.objects.get()
    _, token = asked(bob_client, assignment)
    read = forms_assign.patient_assignment

    def then_withdrawn_elsewhere(**kwargs):
        found = read(**kwargs)
        assert form_assignment_withdraw(actor=actor(alice), assignment=found) is True
        return found

    monkeypatch.setattr(forms_assign, "patient_assignment", then_withdrawn_elsewhere)
    response = bob_client.post(withdraw_url(assignment), {FIELD: token})
    assert "“New patient intake” was withdrawn already; nothing was changed." in said(
        bob_client, response
    )
    events = AuditEvent.objects.filter(action=AuditEvent.Action.FORM_ASSIGNMENT_WITHDRAWN)
    assert [e.actor_user for e in events] == [alice.user]  # the other tab's, once


def test_another_practice_gets_the_answer_of_an_unknown_id(
    carol_client, bob_client, alice, intake, patient_a, patient_b
):
    assignment = FormAssignment.objects.get()
    unknown = reverse("office:form_withdraw", args=[patient_a.public_id, uuid.uuid4()])
    before = snapshot()
    for send in (carol_client.get, carol_client.post):
        theirs, expected = send(withdraw_url(assignment)), send(unknown)
        assert theirs.status_code == expected.status_code == 404
        assert theirs.content == expected.content
    # Another patient's page, with Ada's assignment: not found either, even to her office.
    elsewhere = reverse("office:form_withdraw", args=[patient_b.public_id, assignment.public_id])
    assert bob_client.get(elsewhere).status_code == 404
    assert bob_client.post(elsewhere).status_code == 404
    assert changes(before, snapshot(), allowed=()) == []
    assert FormAssignment.objects.get() == assignment


def test_the_patients_page_costs_the_same_with_a_link_a_row(bob_client, alice, intake, patient_a):
    bob_client.get(page_of(patient_a))
    with CaptureQueriesContext(connection) as one:
        bob_client.get(page_of(patient_a))
    for n in range(4):
        make_form(alice, patient_a, name=f"Form {n}")
    with CaptureQueriesContext(connection) as five:
        html = bob_client.get(page_of(patient_a)).content.decode()
    assert len(five) == len(one)
    assert unescape(html).count(">Withdraw<span") == 5


# At the same moment ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_the_same_moment_withdraw_once(live_server, alice, intake, patient_a):
    from tests.test_double_submits import hidden_fields, post_twice_at_once
    from tests.test_double_submits import signed_in as browser_of

    assignment = FormAssignment.objects.get()
    browser = browser_of(alice)
    html = browser.get(live_server.url + withdraw_url(assignment), timeout=30).text
    fields = hidden_fields(html, "Yes, withdraw")
    first, second = post_twice_at_once(browser, live_server.url + withdraw_url(assignment), fields)
    assert (first.status_code, second.status_code) == (302, 302)
    assert first.headers["Location"] == second.headers["Location"] == f"{page_of(patient_a)}#forms"
    assert not FormAssignment.objects.exists()
    assert (
        AuditEvent.objects.filter(action=AuditEvent.Action.FORM_ASSIGNMENT_WITHDRAWN).count() == 1
    )


@pytest.mark.parametrize("patient_does", ["draft", "submit", "submit with a slip"])
@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_and_the_patients_save_at_the_same_moment_agree(
    alice, patient_a, issue_access, patient_does
):
    """Whichever wins, nothing is half done: no error but the loser's kind refusal, no draft
    tied to a withdrawn form, no withdrawal of a submitted one."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    forms_on(alice)
    issue_access(patient_a, "ada")
    ada = signed_in(patient_a)
    posted = Posted(GOOD if patient_does == "submit" else {**GOOD, "f-born": "last spring"})
    for n in range(6):
        form = make_form(alice, patient_a, name=f"Intake {n}")
        assignment = FormAssignment.objects.get(form=form)
        if n % 2:  # a draft saved before: both sides lock it too
            draft_save(actor=ada, form=form, version_number=1, posted=Posted({"f-name": "A"}))

        def office(assignment: FormAssignment = assignment) -> str:
            try:
                done = form_assignment_withdraw(actor=actor(alice), assignment=assignment)
            except ValidationError:
                return "refused"
            return "withdrew" if done else "already"

        def patient(form: Form = form) -> str:
            try:
                if patient_does == "draft":
                    draft_save(actor=ada, form=form, version_number=1, posted=posted)
                else:
                    submission_submit(actor=ada, form=form, version_number=1, posted=posted)
            except AnswersInvalid:
                return "kept as a draft"
            except NotFound:
                return "gone"
            return "wrote"

        office_said, patient_said = at_once(office, patient)  # neither failed otherwise
        still = FormAssignment.objects.filter(pk=assignment.pk).first()
        if office_said == "withdrew":
            assert still is None
            assert not Submission.objects.filter(assignment_id=assignment.pk).exists()
        else:
            assert (office_said, patient_said) == ("refused", "wrote")
            assert still is not None and still.completed_at is not None
    assert not Submission.objects.filter(
        status=Submission.Status.DRAFT, assignment__isnull=False
    ).exists()
