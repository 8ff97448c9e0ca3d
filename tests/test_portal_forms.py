"""FORMS in the portal: the menu and routes follow the switch, the list, every question labelled
and described, the submitted form's answers as text, and who filled it named."""

from __future__ import annotations

import pytest
import tinyhtml5
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field
from clinicportal.intake.filing import answer_rows
from clinicportal.intake.models import Form, Submission
from clinicportal.intake.services import (
    form_assign,
    form_create,
    form_fields_save,
    submission_submit,
)
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice, StaffMember
from tests.conftest import GUARDIAN_PASSWORD, actor, add_guardian, portal_login
from tests.pages import page_text
from tests.schedule_setup import patient_actor
from tests.test_intake import GOOD, INTAKE, Posted, pdf_text

SLUG = "clinic-x"
FORMS = reverse("portal:forms", args=[SLUG])
HTML = "{http://www.w3.org/1999/xhtml}"


def forms_on(member: StaffMember) -> None:
    Practice.objects.filter(pk=member.practice_id).update(forms_enabled=True)
    member.practice.refresh_from_db()


def make_form(
    member: StaffMember,
    patient: Patient | None = None,
    *,
    name: str = "New patient intake",
    fields: list[Field] | None = None,
    offered_to_all: bool = False,
) -> Form:
    """A form as the office builds it, assigned to ``patient`` when one is given."""
    form = form_create(
        actor=actor(member), name=name, kind=Form.Kind.INTAKE, offered_to_all=offered_to_all
    )
    form_fields_save(actor=actor(member), form=form, fields=INTAKE if fields is None else fields)
    if patient is not None:
        form_assign(actor=actor(member), form=form, patient=patient)
    return form


def form_url(form: Form) -> str:
    return reverse("portal:form", args=[SLUG, form.public_id])


def submit(client: Client, form: Form, answers: dict | None = None, version: int = 1):
    return client.post(
        form_url(form),
        {**(GOOD if answers is None else answers), "version": version, "action": "submit"},
    )


@pytest.fixture
def intake(alice, patient_a, ada_portal) -> Form:
    forms_on(alice)
    return make_form(alice, patient_a)


def test_forms_off_hides_the_menu_and_every_route(alice, patient_a, ada_portal):
    form = make_form(alice, patient_a)
    forms_on(alice)
    assert submit(ada_portal, form).status_code == 302
    sent = Submission.objects.get()
    again = make_form(alice, patient_a, name="Medical history")
    Practice.objects.filter(slug=SLUG).update(forms_enabled=False)
    records = ada_portal.get(reverse("portal:records", args=[SLUG])).content.decode()
    assert "FORMS" not in records
    submission_url = reverse("portal:submission", args=[SLUG, sent.public_id])
    for url in (FORMS, form_url(again), submission_url):
        assert ada_portal.get(url).status_code == 404
    assert submit(ada_portal, again).status_code == 404
    assert (
        ada_portal.post(form_url(again), {**GOOD, "version": 1, "action": "draft"}).status_code
        == 404
    )
    assert Submission.objects.count() == 1
    Practice.objects.filter(slug=SLUG).update(forms_enabled=True)
    shown = ada_portal.get(reverse("portal:records", args=[SLUG])).content.decode()
    assert f'href="{FORMS}"' in shown and "FORMS" in shown


def sections(html: str) -> tuple[str, str]:
    """The words of "Forms to fill" and of "Forms submitted"."""
    words = page_text(html)
    to_fill, _, submitted = words.partition("Forms submitted")
    return to_fill.partition("Forms to fill")[2], submitted


def test_the_list_shows_what_to_fill_and_what_was_submitted(
    intake, alice, patient_a, patient_b, ada_portal, practice_x
):
    offered = make_form(
        alice,
        name="HIPAA acknowledgement",
        fields=[Field("ok", kinds.SIGNATURE, "Signature", required=True)],
        offered_to_all=True,
    )
    make_form(alice, patient_b, name="Blaise only")
    retired = make_form(alice, patient_a, name="Old consent")
    Form.objects.filter(pk=retired.pk).update(active=False)
    ada_portal.post(form_url(intake), {**GOOD, "f-born": "soon", "version": 1, "action": "draft"})
    draft = Submission.objects.get(status=Submission.Status.DRAFT)
    saved = timezone.localtime(draft.updated_at, practice_x.zone).strftime("%m/%d/%Y")

    to_fill, submitted = sections(ada_portal.get(FORMS).content.decode())
    assert f"New patient intake Draft saved {saved}" in to_fill
    assert "HIPAA acknowledgement Not started" in to_fill
    assert "Blaise only" not in to_fill and "Old consent" not in to_fill
    assert "No forms submitted yet." in submitted

    assert (
        submit(ada_portal, offered, {"f-ok": "Ada Lovelace", "f-ok-agree": "on"}).status_code == 302
    )
    sent = Submission.objects.get(form=offered)
    when = timezone.localtime(sent.submitted_at, practice_x.zone).strftime("%m/%d/%Y %-I:%M %p")
    to_fill, submitted = sections(ada_portal.get(FORMS).content.decode())
    assert "HIPAA" not in to_fill  # offered to every patient, and submitted once
    assert f"HIPAA acknowledgement {when} Ada Lovelace" in submitted


# A question of every kind, each with help of its own.
EVERY_KIND = [
    Field("h1", kinds.HEADING, "About you", help="Tell us who you are."),
    Field("name", kinds.SHORT_TEXT, "Preferred name", help="What we call you.", required=True),
    Field("born", kinds.DATE, "Date of birth", required=True),
    Field("drops", kinds.NUMBER, "Eye drops a day", help="Count both eyes."),
    Field("glasses", kinds.YES_NO, "Do you wear glasses?", help="Or contacts.", required=True),
    Field("reason", kinds.SINGLE, "Reason for visit", choices=("Check-up", "Problem")),
    Field("symptoms", kinds.MULTIPLE, "Symptoms", help="Tick all.", choices=("Blurry", "Dry")),
    Field("history", kinds.LONG_TEXT, "Anything else?", help="Medicines, allergies."),
    Field("note", kinds.HELP, "We keep this private."),
    Field("sign", kinds.SIGNATURE, "Signature", required=True),
]


class Doc:
    """A page parsed as a browser does: elements by id, labels by target, fieldsets by legend."""

    def __init__(self, html: str) -> None:
        root = tinyhtml5.parse(html)
        self.by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
        self.labels = {label.get("for"): self.words(label) for label in root.iter(f"{HTML}label")}
        self.fieldsets = {}
        for fieldset in root.iter(f"{HTML}fieldset"):
            legend = fieldset.find(f"{HTML}legend")
            if legend is not None:
                self.fieldsets[self.words(legend)] = fieldset
        self.headings = [self.words(h) for h in root.iter(f"{HTML}h2")]

    @staticmethod
    def words(element) -> str:
        return " ".join("".join(element.itertext()).split())

    def described(self, element) -> str:
        ids = (element.get("aria-describedby") or "").split()
        return " ".join(self.words(self.by_id[i]) for i in ids)


def test_every_kind_of_question_is_labelled_and_described(alice, patient_a, ada_portal):
    forms_on(alice)
    form = make_form(alice, patient_a, fields=EVERY_KIND)
    doc = Doc(ada_portal.get(form_url(form)).content.decode())
    assert "About you" in doc.headings
    # One box each, with its label; help tied to it; required ones marked so.
    for key, label, help_text in (
        ("f-name", "Preferred name *", "What we call you."),
        ("f-born", "Date of birth *", "For example 03/14/1980."),
        ("f-drops", "Eye drops a day", "Count both eyes."),
        ("f-history", "Anything else?", "Medicines, allergies."),
    ):
        assert doc.labels[key] == label
        assert doc.described(doc.by_id[key]) == help_text
        assert (doc.by_id[key].get("required") is not None) == label.endswith("*")
    assert doc.by_id["f-history"].tag == f"{HTML}textarea"
    assert doc.by_id["f-drops"].get("inputmode") == "decimal"
    # Choices are a group named by its legend, each choice labelled.
    for legend, kind, choices, help_text in (
        ("Do you wear glasses? * (required)", "radio", ["Yes", "No"], "Or contacts."),
        ("Reason for visit", "radio", ["Check-up", "Problem", "No answer"], ""),
        ("Symptoms", "checkbox", ["Blurry", "Dry"], "Tick all."),
    ):
        group = doc.fieldsets[legend]
        boxes = [e for e in group.iter(f"{HTML}input")]
        assert [b.get("type") for b in boxes] == [kind] * len(choices)
        assert [doc.labels[b.get("id")] for b in boxes] == choices
        assert doc.described(group) == help_text
    assert [
        b.get("value")
        for b in doc.fieldsets["Do you wear glasses? * (required)"].iter(f"{HTML}input")
    ] == ["yes", "no"]
    # A signature: the typed full name and "I agree", and what signing means.
    signature = doc.fieldsets["Signature * (required)"]
    assert doc.labels["f-sign"] == "Your full name"
    assert doc.labels["f-sign-agree"] == "I agree"
    assert doc.by_id["f-sign-agree"].get("type") == "checkbox"
    assert "date and time are kept" in doc.described(signature)
    assert "We keep this private." in page_text(ada_portal.get(form_url(form)).content.decode())


def test_the_submitted_form_reads_as_the_office_and_the_pdf_read_it(intake, ada_portal):
    response = submit(ada_portal, intake)
    sent = Submission.objects.get()
    assert sent.status == Submission.Status.SUBMITTED
    assert response.url == reverse("portal:submission", args=[SLUG, sent.public_id])
    html = ada_portal.get(response.url).content.decode()
    assert "Thank you. Your form was submitted to the office." in html
    # HTML typed as an answer is shown as text, never run.
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    words, printed = page_text(html), " ".join(pdf_text(sent).split())
    for row in answer_rows(sent):
        label = " ".join(row.label.split())
        assert label in words and label in printed
        if row.kind == "answer":
            answer = " ".join(row.text.split())
            assert f"{label} {answer}" in words, row
            assert answer in printed, row
    assert "Submitted by Ada Lovelace on" in words


def test_an_authorized_user_fills_for_the_patient_and_is_named(
    intake, alice, patient_a, practice_x, ada_portal
):
    add_guardian(alice, patient_a)
    mary = Client()
    portal_login(mary, practice_x, "mary", GUARDIAN_PASSWORD)
    page = page_text(mary.get(form_url(intake)).content.decode())
    assert (
        "You are filling this form for Ada Lovelace. It will say that Mary Lovelace submitted it."
        in page
    )
    assert "You are filling this form for" not in page_text(
        ada_portal.get(form_url(intake)).content.decode()
    )
    response = submit(mary, intake)
    sent = Submission.objects.get()
    assert sent.submitted_by_name == "Mary Lovelace"
    assert sent.submitted_by is not None and sent.submitted_by.username == "mary"
    assert "Submitted by Mary Lovelace on" in page_text(mary.get(response.url).content.decode())
    assert "Submitted by Mary Lovelace on" in " ".join(pdf_text(sent).split())
    # The patient sees who filled it, in FORMS and in LOGS.
    assert "Mary Lovelace" in sections(ada_portal.get(FORMS).content.decode())[1]
    assert ada_portal.get(response.url).status_code == 200
    logs = page_text(ada_portal.get(reverse("portal:logs", args=[SLUG])).content.decode())
    assert "Mary Lovelace submitted the form “New patient intake”" in logs


def test_another_patients_forms_and_a_draft_are_not_found(intake, alice, patient_b, ada_portal):
    theirs = make_form(alice, patient_b, name="Blaise only")
    blaise = patient_actor(alice, patient_b)
    submission_submit(actor=blaise, form=theirs, version_number=1, posted=Posted(GOOD))
    not_yours = Submission.objects.get(form=theirs)
    assert ada_portal.get(form_url(theirs)).status_code == 404
    assert submit(ada_portal, theirs).status_code == 404
    assert (
        ada_portal.get(reverse("portal:submission", args=[SLUG, not_yours.public_id])).status_code
        == 404
    )
    ada_portal.post(form_url(intake), {**GOOD, "version": 1, "action": "draft"})
    draft = Submission.objects.get(status=Submission.Status.DRAFT)
    assert (
        ada_portal.get(reverse("portal:submission", args=[SLUG, draft.public_id])).status_code
        == 404
    )
    assert Submission.objects.filter(form=theirs).count() == 1


def test_the_list_costs_the_same_however_many_forms(intake, alice, patient_a, ada_portal):
    ada_portal.get(FORMS)
    with CaptureQueriesContext(connection) as one:
        ada_portal.get(FORMS)
    for n in range(3):
        more = make_form(alice, patient_a, name=f"Assigned {n}")
        ada_portal.post(form_url(more), {**GOOD, "version": 1, "action": "draft"})
        make_form(alice, name=f"Offered {n}", offered_to_all=True)
        submit(ada_portal, make_form(alice, patient_a, name=f"Done {n}"))
    ada_portal.get(FORMS)  # shows (and so uses up) the "saved" and "thank you" notes
    with CaptureQueriesContext(connection) as many:
        page = ada_portal.get(FORMS).content.decode()
    assert page.count("Draft saved") == 3 and "Done 2" in page and "Offered 2" in page
    assert len(many) == len(one)
