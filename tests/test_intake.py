"""FORMS underneath: answers checked by kind, versions, drafts, submissions into the chart."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from pypdf import PdfReader

from clinicportal.audit.models import AuditEvent
from clinicportal.content.blobstore import get_blob_store
from clinicportal.core.access import NotFound
from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field, Invalid, answer_clean, answer_text
from clinicportal.intake.filing import answer_rows
from clinicportal.intake.models import Form, FormAssignment, FormVersion, Submission
from clinicportal.intake.services import (
    AnswersInvalid,
    VersionChanged,
    draft_save,
    form_assign,
    form_create,
    form_fields_save,
    submission_submit,
)
from clinicportal.practices.models import Practice
from tests.conftest import actor
from tests.schedule_setup import patient_actor
from tests.upload_faults import full_disk

NOW = datetime.datetime(2026, 11, 30, 15, 0, tzinfo=datetime.UTC)

INTAKE = [
    Field("h1", kinds.HEADING, "About you"),
    Field("name", kinds.SHORT_TEXT, "Preferred name", required=True),
    Field("born", kinds.DATE, "Date of birth", required=True),
    Field("drops", kinds.NUMBER, "Eye drops a day"),
    Field("glasses", kinds.YES_NO, "Do you wear glasses?", required=True),
    Field("reason", kinds.SINGLE, "Reason for visit", choices=("Check-up", "Problem")),
    Field("symptoms", kinds.MULTIPLE, "Symptoms", choices=("Blurry", "Dry", "Itchy")),
    Field("history", kinds.LONG_TEXT, "Anything else?"),
    Field("note", kinds.HELP, "We keep this private."),
    Field("sign", kinds.SIGNATURE, "Signature", required=True),
]

GOOD = {
    "f-name": "Ada",
    "f-born": "12/10/1985",
    "f-drops": "2.5",
    "f-glasses": "yes",
    "f-reason": "Problem",
    "f-symptoms": ["Itchy", "Blurry"],
    "f-history": "<script>alert(1)</script> and <img src=x onerror=alert(2)>",
    "f-sign": "Ada  Lovelace",
    "f-sign-agree": "on",
}


class Posted(dict):
    """What a browser posts: a dict whose lists are several values of one name."""

    def getlist(self, name: str) -> list[str]:
        value = self.get(name, [])
        return value if isinstance(value, list) else [value]


@pytest.mark.parametrize(
    ("field", "value", "kept"),
    [
        (Field("d", kinds.DATE, "D"), "03/14/1980", "1980-03-14"),
        (Field("d", kinds.DATE, "D"), "1980-03-14", "1980-03-14"),
        (Field("n", kinds.NUMBER, "N"), "3,50", "3.5"),
        (Field("n", kinds.NUMBER, "N"), "-12", "-12"),
        (Field("y", kinds.YES_NO, "Y"), "no", "no"),
        (Field("m", kinds.MULTIPLE, "M", choices=("a", "b")), ["b", "a", "b"], ["a", "b"]),
        (Field("t", kinds.SHORT_TEXT, "T"), "  x  ", "x"),
        (Field("t", kinds.SHORT_TEXT, "T"), "", None),
    ],
)
def test_answers_are_kept_in_one_form(field, value, kept):
    assert answer_clean(field, value, now=NOW) == kept


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        (Field("d", kinds.DATE, "D"), "yesterday", "Please enter a date"),
        (Field("d", kinds.DATE, "D"), "02/30/1980", "Please enter a date"),
        (Field("n", kinds.NUMBER, "N"), "twelve", "Please enter a number"),
        (Field("n", kinds.NUMBER, "N"), "1e9", "Please enter a number"),
        (Field("y", kinds.YES_NO, "Y"), "maybe", "Please choose Yes or No."),
        (Field("s", kinds.SINGLE, "S", choices=("a", "b")), "c", "choose one of the choices"),
        (Field("m", kinds.MULTIPLE, "M", choices=("a", "b")), ["a", "z"], "choose from"),
        (Field("t", kinds.SHORT_TEXT, "T", required=True), "  ", "Please answer this question."),
        (Field("t", kinds.SHORT_TEXT, "T"), "a\nb", "one line"),
        (Field("g", kinds.SIGNATURE, "G", required=True), {"name": "", "agreed": False}, "sign"),
        (Field("g", kinds.SIGNATURE, "G"), {"name": "Ada", "agreed": False}, "“I agree”"),
        (Field("g", kinds.SIGNATURE, "G"), {"name": "", "agreed": True}, "full name"),
    ],
)
def test_wrong_answers_say_what_is_wrong(field, value, error):
    with pytest.raises(Invalid) as raised:
        answer_clean(field, value, now=NOW)
    assert error in raised.value.message


def test_a_signature_records_the_name_and_the_moment():
    signed = answer_clean(
        Field("g", kinds.SIGNATURE, "G"), {"name": " Ada  L ", "agreed": True}, now=NOW
    )
    assert signed == {"name": "Ada L", "agreed": True, "signed_at": NOW.isoformat()}
    with timezone.override(datetime.UTC):
        text = answer_text(Field("g", kinds.SIGNATURE, "G"), signed)
    assert text == "Signed by Ada L (“I agree”) on 11/30/2026 3:00 PM"


# Services -----------------------------------------------------------------------------------


@pytest.fixture
def intake(alice, patient_a):
    Practice.objects.filter(pk=alice.practice_id).update(forms_enabled=True)
    alice.practice.refresh_from_db()
    form = form_create(actor=actor(alice), name="New patient intake", kind=Form.Kind.INTAKE)
    form_fields_save(actor=actor(alice), form=form, fields=INTAKE)
    form_assign(actor=actor(alice), form=form, patient=patient_a)
    return form, patient_actor(alice, patient_a)


def pdf_text(submission: Submission) -> str:
    assert submission.chart_file is not None
    reader = PdfReader(get_blob_store().path(submission.chart_file.blob.storage_name))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_a_submission_reaches_the_chart_as_a_pdf_with_every_answer(intake):
    form, ada = intake
    submission = submission_submit(actor=ada, form=form, version_number=1, posted=Posted(GOOD))
    assert submission.status == Submission.Status.SUBMITTED
    assert submission.submitted_by_name == ada.account.display_name
    assert submission.answers["symptoms"] == ["Blurry", "Itchy"]
    assert submission.chart_file is not None and not submission.pdf_error
    text = " ".join(pdf_text(submission).split())
    for row in answer_rows(submission):
        assert " ".join(row.label.split()) in text
        if row.kind == "answer":
            assert " ".join(row.text.split()) in text, row
    assert "<script>alert(1)</script>" in text  # as text, exactly as typed
    assert FormAssignment.objects.get().completed_at is not None
    assert AuditEvent.objects.filter(action=AuditEvent.Action.FORM_SUBMITTED).count() == 1
    with pytest.raises(NotFound):  # already submitted
        submission_submit(actor=ada, form=form, version_number=1, posted=Posted(GOOD))


def test_a_draft_keeps_what_was_typed_and_comes_back(intake):
    form, ada = intake
    typed = {**GOOD, "f-born": "not yet", "f-drops": "lots"}
    draft_save(actor=ada, form=form, version_number=1, posted=Posted(typed))
    draft_save(actor=ada, form=form, version_number=1, posted=Posted(typed))  # saved twice
    draft = Submission.objects.get()
    assert draft.status == Submission.Status.DRAFT
    assert draft.answers["born"] == "not yet" and draft.answers["drops"] == "lots"
    with pytest.raises(AnswersInvalid) as raised:
        submission_submit(actor=ada, form=form, version_number=1, posted=Posted(typed))
    assert set(raised.value.errors) == {"born", "drops"}
    assert raised.value.typed["drops"] == "lots"
    assert Submission.objects.get().status == Submission.Status.DRAFT
    assert FormAssignment.objects.get().completed_at is None
    done = submission_submit(actor=ada, form=form, version_number=1, posted=Posted(GOOD))
    assert done.pk == draft.pk and Submission.objects.count() == 1


def test_editing_an_answered_form_makes_a_new_version(intake, alice):
    form, ada = intake
    version_one = FormVersion.objects.get(form=form)
    form_fields_save(actor=actor(alice), form=form, fields=INTAKE[:3])  # nothing answers it yet
    assert FormVersion.objects.filter(form=form).count() == 1
    form_fields_save(actor=actor(alice), form=form, fields=INTAKE)
    draft_save(actor=ada, form=form, version_number=1, posted=Posted(GOOD))
    form_fields_save(
        actor=actor(alice), form=form, fields=[*INTAKE, Field("x", kinds.SHORT_TEXT, "New")]
    )
    assert FormVersion.objects.filter(form=form).count() == 2
    version_one.refresh_from_db()
    assert len(version_one.fields) == len(INTAKE)  # the answered version is as it was
    # The patient submits what they filled against version 1: nothing lost, asked to look again.
    with pytest.raises(VersionChanged) as raised:
        submission_submit(actor=ada, form=form, version_number=1, posted=Posted(GOOD))
    assert raised.value.draft.version.number == 2
    assert raised.value.draft.answers["name"] == "Ada"
    done = submission_submit(actor=ada, form=form, version_number=2, posted=Posted(GOOD))
    assert done.version.number == 2


def test_a_form_not_assigned_or_off_is_not_found(alice, patient_a, patient_b, intake):
    form, _ada = intake
    bea = patient_actor(alice, patient_b)
    with pytest.raises(NotFound):
        draft_save(actor=bea, form=form, version_number=1, posted=Posted(GOOD))
    Form.objects.filter(pk=form.pk).update(offered_to_all=True)
    form.refresh_from_db()
    submission_submit(actor=bea, form=form, version_number=1, posted=Posted(GOOD))
    with pytest.raises(NotFound):  # offered to all, but once
        submission_submit(actor=bea, form=form, version_number=1, posted=Posted(GOOD))
    Practice.objects.filter(pk=alice.practice_id).update(forms_enabled=False)
    _ada.account.practice.refresh_from_db()
    with pytest.raises(NotFound):
        draft_save(actor=_ada, form=form, version_number=1, posted=Posted(GOOD))


def test_the_builder_refuses_fields_it_cannot_ask(alice):
    form = form_create(actor=actor(alice), name="Consent", kind=Form.Kind.CONSENT)
    with pytest.raises(ValidationError) as raised:
        form_fields_save(
            actor=actor(alice),
            form=form,
            fields=[
                Field("a", kinds.SINGLE, "Pick", choices=("only one",)),
                Field("b", kinds.SHORT_TEXT, " "),
            ],
        )
    assert set(raised.value.message_dict) == {"0", "1"}
    assert FormVersion.objects.get(form=form).fields == []


def test_a_full_disk_keeps_the_submission_and_says_the_pdf_is_missing(intake, monkeypatch):
    form, ada = intake
    full_disk(monkeypatch, room=1_000)  # far smaller than the PDF
    submission = submission_submit(actor=ada, form=form, version_number=1, posted=Posted(GOOD))
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED
    assert submission.chart_file is None and "could not be made" in submission.pdf_error
    assert submission.answers["name"] == "Ada"
    assert FormAssignment.objects.get().completed_at is not None
