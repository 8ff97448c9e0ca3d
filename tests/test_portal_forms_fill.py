"""Filling a form in the portal: a draft comes back as typed, a wrong answer is shown next to its
question with nothing lost, a form changed meanwhile keeps the answers, and a second submit says
the form was submitted already."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field
from clinicportal.intake.models import Form, FormAssignment, Submission
from clinicportal.intake.services import form_fields_save
from tests.conftest import actor
from tests.pages import page_text
from tests.test_form_errors import Page
from tests.test_intake import GOOD, INTAKE
from tests.test_portal_forms import (
    SLUG,
    Doc,
    form_url,
    forms_on,
    make_form,
    submit,
)


@pytest.fixture
def intake(alice, patient_a, ada_portal) -> Form:
    forms_on(alice)
    return make_form(alice, patient_a)


def draft(client, form: Form, answers: dict, version: int = 1):
    return client.post(form_url(form), {**answers, "version": version, "action": "draft"})


def kept(doc: Doc, answers: dict) -> None:
    """The page holds every answer exactly as typed."""
    assert doc.by_id["f-name"].get("value") == answers["f-name"]
    assert doc.by_id["f-born"].get("value") == answers["f-born"]
    assert doc.by_id["f-drops"].get("value") == answers["f-drops"]
    assert Doc.words(doc.by_id["f-history"]) == " ".join(answers["f-history"].split())
    assert doc.by_id["f-sign"].get("value") == answers["f-sign"]
    assert doc.by_id["f-sign-agree"].get("checked") is not None
    ticked = [e.get("value") for e in doc.by_id.values() if e.get("checked") is not None]
    assert set(ticked) >= {answers["f-glasses"], *answers["f-symptoms"]}


def test_a_draft_keeps_what_was_typed_and_comes_back(intake, ada_portal):
    typed = {**GOOD, "f-born": "soon", "f-drops": "a few"}
    response = draft(ada_portal, intake, typed)
    assert response.status_code == 302 and response.url == form_url(intake)
    html = ada_portal.get(response.url).content.decode()
    assert "Your answers are saved as a draft. You can come back and finish later." in html
    assert "Draft saved" in html
    kept(Doc(html), typed)
    assert "<script>alert(1)</script>" not in html  # typed HTML stays text in the box
    # Nothing was submitted: the office still waits for it.
    assert Submission.objects.get().status == Submission.Status.DRAFT
    assert FormAssignment.objects.get(form=intake).completed_at is None


def test_wrong_answers_are_shown_next_to_each_question_with_nothing_lost(intake, ada_portal):
    typed = {**GOOD, "f-name": " ", "f-born": "yesterday", "f-drops": "lots", "f-reason": "Other"}
    response = submit(ada_portal, intake, typed)
    assert response.status_code == 400
    html = response.content.decode()
    page, doc = Page(html), Doc(html)
    for key, error in (
        ("f-name", "Please answer this question."),
        ("f-born", "Please enter a date, for example 03/14/1980."),
        ("f-drops", "Please enter a number, for example 12 or 3.5."),
    ):
        assert page.attrs[key].get("aria-invalid") == "true", key
        assert error in page.description(key), key
    reason = doc.fieldsets["Reason for visit"]
    assert "Please choose one of the choices shown." in doc.described(reason)
    assert "Please correct the 4 answers below. Everything you typed is kept." in page_text(html)
    assert 'href="#f-reason-0"' in html  # the list on top leads to each question
    kept(doc, {**typed, "f-name": " "})
    assert doc.by_id["f-name"].get("value") == " "
    # Nothing was submitted; what was typed waits in the draft.
    found = Submission.objects.get()
    assert found.status == Submission.Status.DRAFT and found.answers["born"] == "yesterday"
    assert FormAssignment.objects.get(form=intake).completed_at is None


def test_a_form_changed_while_filling_keeps_the_answers(intake, alice, ada_portal):
    draft(ada_portal, intake, {**GOOD, "f-name": "Ada"})
    added = Field("pharmacy", kinds.SHORT_TEXT, "Your pharmacy", required=True)
    form_fields_save(actor=actor(alice), form=intake, fields=[*INTAKE, added])  # version 2
    # The page the patient still has open posts version 1.
    response = submit(ada_portal, intake, {**GOOD, "f-name": "Ada L."})
    assert response.status_code == 409
    html = response.content.decode()
    assert (
        "The office changed this form while you were filling it. Your answers are kept; please "
        "check them and submit again." in page_text(html)
    )
    doc = Doc(html)
    assert doc.by_id["f-name"].get("value") == "Ada L."
    assert doc.labels["f-pharmacy"] == "Your pharmacy *"
    assert 'name="version" value="2"' in html
    assert Submission.objects.get().status == Submission.Status.DRAFT
    # Coming back later says so too, before they submit.
    html = ada_portal.get(form_url(intake)).content.decode()
    assert Doc(html).by_id["f-name"].get("value") == "Ada L."
    response = submit(ada_portal, intake, {**GOOD, "f-pharmacy": "Main St."}, version=2)
    assert response.status_code == 302
    assert Submission.objects.get().version.number == 2


def test_a_draft_of_an_older_version_says_the_form_changed(intake, alice, ada_portal):
    draft(ada_portal, intake, GOOD)
    form_fields_save(actor=actor(alice), form=intake, fields=INTAKE[:4])  # version 2
    html = ada_portal.get(form_url(intake)).content.decode()
    assert "The office changed this form since you saved your draft." in page_text(html)
    assert 'name="version" value="2"' in html
    assert Doc(html).by_id["f-name"].get("value") == "Ada"


def test_a_second_submit_says_it_was_submitted_and_keeps_what_was_typed(intake, ada_portal):
    first = submit(ada_portal, intake)
    assert first.status_code == 302
    again = submit(ada_portal, intake, {**GOOD, "f-name": "Second try"})
    assert again.status_code == 409
    html = again.content.decode()
    assert "This form was already submitted on" in page_text(html)
    assert f'href="{first.url}"' in html
    assert Doc(html).by_id["f-name"].get("value") == "Second try"
    assert 'value="submit"' not in html  # no button to send it again
    assert Submission.objects.count() == 1
    assert Submission.objects.get().answers["name"] == "Ada"
    # Opening the form again leads to what was submitted.
    opened = ada_portal.get(form_url(intake))
    assert opened.status_code == 302 and opened.url == first.url


def test_a_version_the_form_never_had_is_refused_with_what_was_typed(intake, ada_portal):
    for action in ("submit", "draft"):
        response = ada_portal.post(
            form_url(intake), {**GOOD, "f-name": "Kept", "version": "99", "action": action}
        )
        assert response.status_code == 400
        html = response.content.decode()
        assert "This form has changed. Please look at it again." in page_text(html)
        assert Doc(html).by_id["f-name"].get("value") == "Kept"
    assert not Submission.objects.exists()


def test_a_form_offered_to_everyone_is_filled_once(alice, patient_a, ada_portal):
    forms_on(alice)
    offered = make_form(alice, name="HIPAA acknowledgement", offered_to_all=True)
    assert submit(ada_portal, offered).status_code == 302
    assert submit(ada_portal, offered).status_code == 409
    assert Submission.objects.get().assignment is None


def test_a_form_taken_out_of_use_is_not_found(intake, ada_portal):
    Form.objects.filter(pk=intake.pk).update(active=False)
    assert ada_portal.get(form_url(intake)).status_code == 404
    assert submit(ada_portal, intake).status_code == 404
    assert ada_portal.get(reverse("portal:forms", args=[SLUG])).status_code == 200
    assert not Submission.objects.exists()


def test_a_line_break_is_kept_as_one_character(intake, ada_portal):
    # A browser posts a text area's line breaks as CR LF; the screen shows one LF.
    answers = {**GOOD, "f-history": "Drops at night.\r\nGlasses for reading.\rNone else."}
    assert submit(ada_portal, intake, answers).status_code == 302
    found = Submission.objects.get().answers["history"]
    assert found == "Drops at night.\nGlasses for reading.\nNone else."


def test_an_optional_choice_can_be_taken_back_and_a_required_one_cannot(intake, ada_portal):
    """A ticked radio button cannot be unticked, so an optional one offers "No answer"."""
    fresh = Doc(ada_portal.get(form_url(intake)).content.decode())
    assert fresh.by_id["f-reason-2"].get("value") == ""
    assert fresh.by_id["f-reason-2"].get("checked") is not None  # nothing chosen yet
    assert "f-glasses-2" not in fresh.by_id  # required: Yes or No only
    draft(ada_portal, intake, GOOD)
    chosen = Doc(ada_portal.get(form_url(intake)).content.decode())
    assert chosen.by_id["f-reason-1"].get("checked") is not None
    assert chosen.by_id["f-reason-2"].get("checked") is None
    draft(ada_portal, intake, {**GOOD, "f-reason": ""})
    assert Submission.objects.get().answers.get("reason") == ""  # the draft: as typed
    again = Doc(ada_portal.get(form_url(intake)).content.decode())
    assert again.by_id["f-reason-2"].get("checked") is not None
    assert again.by_id["f-reason-1"].get("checked") is None
    assert again.labels["f-reason-2"] == "No answer"
