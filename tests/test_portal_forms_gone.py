"""A form the office takes out of use, or stops asking the patient to fill, while they fill it:
"Save draft" and "Submit" answer with what was typed, to copy (410), and write nothing. Only
the page that showed this patient the form carries its mark; to anyone else, as to Forms off,
the form stays an unknown id (404)."""

from __future__ import annotations

import re
import uuid
from html import unescape

import pytest
import tinyhtml5
from django.test import Client

from clinicportal.audit.models import AuditEvent
from clinicportal.intake import services
from clinicportal.intake.models import Form, FormAssignment, Submission
from clinicportal.intake.portal_selectors import _mark
from clinicportal.intake.services import form_assignment_withdraw, form_details_save
from clinicportal.portal import form_views
from clinicportal.practices.models import Practice, StaffMember
from tests.conftest import NEW_PASSWORD, actor, add_patient, portal_login
from tests.pages import page_text
from tests.test_intake import GOOD
from tests.test_portal_forms import HTML, SLUG, form_url, forms_on, make_form
from tests.walk import changes, snapshot

# GOOD, with a slip: what was typed is shown as typed, checked or not.
TYPED = {**GOOD, "f-born": "last spring"}
# The rows the page lists, question and what was typed, in the form's order.
SHOWN = [
    ("Preferred name", "Ada"),
    ("Date of birth", "last spring"),
    ("Eye drops a day", "2.5"),
    ("Do you wear glasses?", "Yes"),
    ("Reason for visit", "Problem"),
    ("Symptoms", "Itchy; Blurry"),
    ("Anything else?", GOOD["f-history"]),
    ("Signature", "Ada  Lovelace (“I agree” ticked)"),
]
SENT = "This form is no longer in use, so your answers could not be sent."
SAVED = "This form is no longer in use, so your answers could not be saved."
NOT_ASKED = "The office no longer asks you to fill this form, so your answers could not be "


@pytest.fixture
def intake(alice, patient_a, ada_portal) -> Form:
    forms_on(alice)
    return make_form(alice, patient_a)


@pytest.fixture
def yvonne(practice_y) -> StaffMember:
    """Admin of practice Y."""
    return StaffMember.objects.select_related("user").get(user__username="yvonne")


@pytest.fixture
def bea_portal(alice, patient_b, issue_access) -> Client:
    """Patient B (Blaise), in the same practice, signed in to the portal."""
    username, temporary = issue_access(patient_b, "bea")
    client = Client()
    portal_login(client, alice.practice, username, temporary)
    client.post(
        f"/p/{SLUG}/password/", {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    return client


def mark_of(client: Client, form: Form) -> str:
    """The mark on the page the patient fills the form on."""
    html = client.get(form_url(form)).content.decode()
    found = re.search(r'name="mark" value="([0-9a-f]+)"', html)
    assert found, "the form's page carries no mark"
    return found.group(1)


def post(client: Client, form: Form, mark: str, action: str, answers: dict | None = None):
    posted = {**(TYPED if answers is None else answers), "version": 1, "action": action}
    return client.post(form_url(form), {**posted, "mark": mark})


def retire(member: StaffMember, form: Form, **changed: bool) -> None:
    """The office changes the form's details in Admin → Forms."""
    details = {"offered_to_all": form.offered_to_all, "active": form.active, **changed}
    form_details_save(
        actor=actor(member),
        form=form,
        name=form.name,
        kind=form.kind,
        description=form.description,
        **details,
    )


def rows(html: str) -> list[tuple[str, str]]:
    root = tinyhtml5.parse(html)
    return [
        ("".join(div.find(f"{HTML}dt").itertext()), "".join(div.find(f"{HTML}dd").itertext()))
        for dl in root.iter(f"{HTML}dl")
        for div in dl.iter(f"{HTML}div")
    ]


def not_found_alike(client: Client, url: str, unknown: str, posted: dict) -> None:
    """The request answers exactly as the same request for an unknown id does."""
    response, expected = client.post(url, posted), client.post(unknown, posted)
    assert response.status_code == expected.status_code == 404
    body = response.content.decode().replace(url, unknown)
    assert body == expected.content.decode()


@pytest.mark.parametrize(("action", "said"), [("submit", SENT), ("draft", SAVED)])
def test_a_form_taken_out_of_use_shows_what_was_typed_and_writes_nothing(
    intake, alice, ada_portal, practice_x, action, said
):
    Practice.objects.filter(pk=practice_x.pk).update(phone="")
    mark = mark_of(ada_portal, intake)
    retire(alice, intake, active=False)
    before = snapshot()
    response = post(ada_portal, intake, mark, action)
    assert response.status_code == 410
    html = response.content.decode()
    words = page_text(html)
    assert said in words
    assert "Here is what you typed, so you can copy it or call the office." in words
    assert "The office's phone number is" not in words  # the practice has none
    assert rows(html) == SHOWN
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert f'href="/p/{SLUG}/forms/"' in html
    assert 'value="submit"' not in html and 'name="mark"' not in html  # nothing to send again
    assert changes(before, snapshot(), allowed=()) == []
    # It is still out of use: opening it is a 404, and FORMS lists it no more.
    assert ada_portal.get(form_url(intake)).status_code == 404
    assert intake.name not in page_text(ada_portal.get(f"/p/{SLUG}/forms/").content.decode())


def test_a_draft_saved_before_stays_as_it_was(intake, alice, ada_portal, practice_x):
    Practice.objects.filter(pk=practice_x.pk).update(phone="(207) 555-0100")
    mark = mark_of(ada_portal, intake)
    assert (
        post(ada_portal, intake, mark, "draft", {**TYPED, "f-name": "Earlier"}).status_code == 302
    )
    ada_portal.get(form_url(intake))  # shows (and so uses up) the "saved" note
    draft = Submission.objects.get()
    retire(alice, intake, active=False)
    before = snapshot()
    response = post(ada_portal, intake, mark, "submit", {**TYPED, "f-name": "Ada, later"})
    assert response.status_code == 410
    assert rows(response.content.decode())[0] == ("Preferred name", "Ada, later")
    assert "The office's phone number is (207) 555-0100." in page_text(response.content.decode())
    assert changes(before, snapshot(), allowed=()) == []
    draft.refresh_from_db()
    assert draft.status == Submission.Status.DRAFT and draft.answers["name"] == "Earlier"


def test_a_form_no_longer_assigned_shows_what_was_typed(intake, ada_portal):
    mark = mark_of(ada_portal, intake)
    FormAssignment.objects.filter(form=intake).delete()  # no draft holds it
    before = snapshot()
    response = post(ada_portal, intake, mark, "submit")
    assert response.status_code == 410
    html = response.content.decode()
    assert NOT_ASKED + "sent." in page_text(html)
    assert rows(html) == SHOWN
    assert changes(before, snapshot(), allowed=()) == []


@pytest.mark.parametrize("action", ["submit", "draft"])
@pytest.mark.parametrize("saved", [False, True])
def test_a_form_the_office_withdrew_shows_what_was_typed(intake, alice, ada_portal, action, saved):
    mark = mark_of(ada_portal, intake)
    if saved:  # a draft saved before, kept as it was
        assert (
            post(ada_portal, intake, mark, "draft", {**TYPED, "f-name": "Earlier"}).status_code
            == 302
        )
        ada_portal.get(form_url(intake))  # shows (and so uses up) the "saved" note
    form_assignment_withdraw(actor=actor(alice), assignment=FormAssignment.objects.get())
    before = snapshot()
    response = post(ada_portal, intake, mark, action)
    assert response.status_code == 410
    html = response.content.decode()
    assert NOT_ASKED + ("sent." if action == "submit" else "saved.") in page_text(html)
    assert rows(html) == SHOWN
    assert changes(before, snapshot(), allowed=()) == []
    drafts = Submission.objects.all()
    assert [(d.status, d.answers["name"]) for d in drafts] == (
        [("draft", "Earlier")] if saved else []
    )
    assert intake.name not in page_text(ada_portal.get(f"/p/{SLUG}/forms/").content.decode())


@pytest.mark.parametrize(
    ("action", "answers"),
    [("draft", TYPED), ("submit", TYPED), ("submit", GOOD)],
    ids=["draft", "submit-with-a-slip", "submit"],
)
def test_a_form_withdrawn_between_the_check_and_the_write_writes_nothing(
    intake, alice, ada_portal, monkeypatch, action, answers
):
    """The office's withdrawal lands after the service found the form open, before it wrote."""
    mark = mark_of(ada_portal, intake)
    assignment = FormAssignment.objects.get()
    check = services.fillable

    def then_withdrawn(actor_, form):
        found = check(actor_, form)
        if FormAssignment.objects.filter(pk=assignment.pk).exists():
            form_assignment_withdraw(actor=actor(alice), assignment=assignment)
        return found

    monkeypatch.setattr(services, "fillable", then_withdrawn)
    before = snapshot()
    response = post(ada_portal, intake, mark, action, answers)
    assert response.status_code == 410
    assert NOT_ASKED in page_text(response.content.decode())
    written = changes(before, snapshot(), allowed=(AuditEvent.Action.FORM_ASSIGNMENT_WITHDRAWN,))
    assert written == [f"intake.FormAssignment row {assignment.pk} deleted"]  # the office's
    assert not Submission.objects.exists()


def test_a_form_no_longer_offered_to_everyone_shows_what_was_typed(alice, patient_a, ada_portal):
    forms_on(alice)
    offered = make_form(alice, name="HIPAA acknowledgement", offered_to_all=True)
    mark = mark_of(ada_portal, offered)
    retire(alice, offered, offered_to_all=False)
    before = snapshot()
    response = post(ada_portal, offered, mark, "draft")
    assert response.status_code == 410
    assert NOT_ASKED + "saved." in page_text(response.content.decode())
    assert rows(response.content.decode()) == SHOWN
    assert changes(before, snapshot(), allowed=()) == []


@pytest.mark.parametrize("action", ["submit", "draft"])
def test_a_form_no_longer_assigned_between_reading_and_writing(
    intake, ada_portal, monkeypatch, action
):
    """The office's change lands after the view read the form, before the service writes."""
    mark = mark_of(ada_portal, intake)
    read = form_views.portal_form_filling
    assignment = FormAssignment.objects.get(form=intake)

    def then_unassigned(**kwargs):
        found = read(**kwargs)
        FormAssignment.objects.filter(pk=assignment.pk).delete()
        return found

    monkeypatch.setattr(form_views, "portal_form_filling", then_unassigned)
    before = snapshot()
    response = post(ada_portal, intake, mark, action)
    assert response.status_code == 410
    assert NOT_ASKED in page_text(response.content.decode())
    assert rows(response.content.decode()) == SHOWN
    assert changes(before, snapshot(), allowed=()) == [
        f"intake.FormAssignment row {assignment.pk} deleted"
    ]


def test_anyone_else_still_gets_the_answer_of_an_unknown_id(
    intake, alice, yvonne, patient_a, patient_b, ada_portal, bea_portal
):
    mark = mark_of(ada_portal, intake)
    theirs = make_form(alice, patient_b, name="Blaise only")
    their_mark = mark_of(bea_portal, theirs)
    offered = make_form(alice, name="HIPAA acknowledgement", offered_to_all=True)
    retire(alice, intake, active=False)
    retire(alice, theirs, active=False)
    retire(alice, offered, active=False)
    Practice.objects.filter(pk=yvonne.practice_id).update(forms_enabled=True)
    elsewhere = make_form(yvonne, add_patient(yvonne, "Yara", "Young"), name="Y intake")
    unknown = form_url(Form(public_id=uuid.uuid4()))
    posted = {**TYPED, "version": 1, "action": "submit"}
    before = snapshot()
    # Another patient, with Ada's page, or with a page of their own for another form.
    not_found_alike(bea_portal, form_url(intake), unknown, {**posted, "mark": mark})
    not_found_alike(bea_portal, form_url(intake), unknown, {**posted, "mark": their_mark})
    # Ada, with her page's mark, at another patient's form; without a mark; with a made-up one.
    not_found_alike(ada_portal, form_url(theirs), unknown, {**posted, "mark": mark})
    not_found_alike(ada_portal, form_url(intake), unknown, posted)
    not_found_alike(ada_portal, form_url(intake), unknown, {**posted, "mark": "0" * 64})
    # A form offered to everyone and taken out of use, never opened to fill: no page, no mark.
    not_found_alike(ada_portal, form_url(offered), unknown, posted)
    # Another practice's form, even with a mark signed for it and Ada.
    forged = _mark(elsewhere, patient_a)
    not_found_alike(ada_portal, form_url(elsewhere), unknown, {**posted, "mark": forged})
    # A form that never existed.
    assert ada_portal.post(unknown, {**posted, "mark": mark}).status_code == 404
    assert changes(before, snapshot(), allowed=()) == []
    # Bea's own page still gets her the kinder answer.
    assert bea_portal.post(form_url(theirs), {**posted, "mark": their_mark}).status_code == 410


@pytest.mark.parametrize("active", [True, False])
def test_forms_off_is_a_404_even_with_the_pages_mark(intake, alice, ada_portal, active):
    mark = mark_of(ada_portal, intake)
    retire(alice, intake, active=active)
    Practice.objects.filter(slug=SLUG).update(forms_enabled=False)
    before = snapshot()
    for action in ("submit", "draft"):
        response = post(ada_portal, intake, mark, action)
        assert response.status_code == 404
        assert "last spring" not in unescape(response.content.decode())
    assert changes(before, snapshot(), allowed=()) == []
