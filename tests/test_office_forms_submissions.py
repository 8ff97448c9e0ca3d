"""Forms in the office for every staff member: assigning one to a patient, the list of what
patients submitted, a submission's answers and its PDF in the chart (or making it again)."""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinicportal.audit.models import PORTAL_LOG_ACTIONS, AuditEvent
from clinicportal.core.context import PortalActor
from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field
from clinicportal.intake.filing import answer_rows
from clinicportal.intake.models import Form, FormAssignment, FormVersion, Submission
from clinicportal.intake.services import (
    draft_save,
    form_assign,
    form_create,
    form_fields_save,
    submission_submit,
)
from clinicportal.patients.models import ChartFile
from clinicportal.portal.log_entries import log_entries
from clinicportal.practices.models import Practice, StaffMember
from tests.conftest import actor, add_guardian, add_patient
from tests.pages import page_text
from tests.schedule_setup import patient_actor
from tests.test_intake import GOOD, INTAKE, Posted
from tests.upload_faults import full_disk

SUBMISSIONS = reverse("office:submissions")


def forms_on(member: StaffMember) -> None:
    Practice.objects.filter(pk=member.practice_id).update(forms_enabled=True)
    member.practice.refresh_from_db()


def make_form(member: StaffMember, name: str, fields=INTAKE, **extra) -> Form:
    form = form_create(actor=actor(member), name=name, kind=Form.Kind.INTAKE, **extra)
    form_fields_save(actor=actor(member), form=form, fields=fields)
    return form


@pytest.fixture
def intake(alice) -> Form:
    forms_on(alice)
    return make_form(alice, "New patient intake")


@pytest.fixture
def ada(alice, patient_a) -> PortalActor:
    return patient_actor(alice, patient_a)


def submitted(member: StaffMember, form: Form, who: PortalActor, posted=GOOD) -> Submission:
    assert who.patient is not None
    form_assign(actor=actor(member), form=form, patient=who.patient)
    return submission_submit(actor=who, form=form, version_number=1, posted=Posted(posted))


def found(pattern: str, html: str) -> str:
    match = re.search(pattern, html, re.S)
    assert match, pattern
    return match.group(match.lastindex or 0)


# Assigning from the patient's page --------------------------------------------------------------


def test_a_form_offered_to_every_patient_waits_on_the_patients_page_until_submitted(
    bob_client, alice, intake, ada, patient_a, practice_y
):
    """The portal lists it under FORMS for Ada: the office's page says so too, not "No forms
    are waiting"; not another practice's, and not once Ada has submitted it."""
    hipaa = make_form(alice, "HIPAA acknowledgement", offered_to_all=True)
    yvonne = StaffMember.objects.get(user__username="yvonne")
    make_form(yvonne, "Clinic Y consent", offered_to_all=True)
    page = reverse("office:patient", args=[patient_a.public_id])
    html = bob_client.get(page).content.decode()
    row = found(r'<table class="table forms-waiting".*?</table>', html)
    assert "HIPAA acknowledgement" in row and "Offered to every patient" in row
    assert "Not started" in row and "Clinic Y consent" not in html
    assert "No forms are waiting" not in html
    submission_submit(actor=ada, form=hipaa, version_number=1, posted=Posted(GOOD))
    html = bob_client.get(page).content.decode()
    assert "Offered to every patient" not in html and "No forms are waiting for Ada." in html
    make_form(alice, "Eye history", offered_to_all=True)
    Practice.objects.filter(pk=alice.practice_id).update(forms_enabled=False)
    html = bob_client.get(page).content.decode()
    # With FORMS off the portal lists nothing, so neither does this page (only to assign).
    assert "Offered to every patient" not in html


def test_staff_assign_a_form_from_the_patients_page(bob_client, intake, patient_a):
    page = reverse("office:patient", args=[patient_a.public_id])
    html = bob_client.get(page).content.decode()
    assert '<li><a href="#forms">Forms</a></li>' in html
    assert f'<option value="{intake.public_id}">New patient intake</option>' in html
    assert "No forms are waiting for Ada." in html

    url = reverse("office:form_assign", args=[patient_a.public_id])
    response = bob_client.post(url, {"form": str(intake.public_id)})
    assert response.status_code == 302 and response["Location"] == f"{page}#forms"
    assignment = FormAssignment.objects.get()
    assert (assignment.patient, assignment.form, assignment.completed_at) == (
        patient_a,
        intake,
        None,
    )
    assert AuditEvent.objects.filter(action=AuditEvent.Action.FORM_ASSIGNED).count() == 1
    html = bob_client.get(page).content.decode()
    assert "“New patient intake” was assigned to Ada Lovelace, who sees it under FORMS" in (
        unescape(html)
    )
    row = found(r'<table class="table forms-waiting".*?</table>', html)
    assert "New patient intake" in row and "by Bob Front Desk" in row and "Not started" in row

    # Again, while it is open: nothing new.
    bob_client.post(url, {"form": str(intake.public_id)})
    assert FormAssignment.objects.count() == 1
    assert "is already waiting for Ada Lovelace; nothing was changed." in unescape(
        bob_client.get(page).content.decode()
    )


def test_a_draft_in_progress_shows_on_the_patients_page(bob_client, alice, intake, ada):
    form_assign(actor=actor(alice), form=intake, patient=ada.patient)
    draft_save(actor=ada, form=intake, version_number=1, posted=Posted({"f-name": "A"}))
    saved = timezone.localtime(Submission.objects.get().updated_at).strftime("%m/%d/%Y")
    html = bob_client.get(reverse("office:patient", args=[ada.patient.public_id])).content.decode()
    assert f"Draft saved {saved}" in html
    assert Submission.objects.get().status == Submission.Status.DRAFT
    assert "has not submitted any forms yet." in html  # a draft is not a submission


@pytest.mark.parametrize("choice", ["", "not-an-id", "00000000-0000-0000-0000-000000000000"])
def test_assigning_no_form_or_a_form_unknown_assigns_nothing(bob_client, intake, patient_a, choice):
    url = reverse("office:form_assign", args=[patient_a.public_id])
    response = bob_client.post(url, {"form": choice})
    assert response.status_code == 302
    assert not FormAssignment.objects.exists()
    page = bob_client.get(response["Location"]).content.decode()
    assert "Please choose a form to assign; nothing was assigned." in page


def test_a_form_not_in_use_or_of_another_practice_cannot_be_assigned(
    bob_client, alice, carol, intake, patient_a
):
    Form.objects.filter(pk=intake.pk).update(active=False)
    theirs = make_form(carol_admin(carol), "Theirs")
    url = reverse("office:form_assign", args=[patient_a.public_id])
    for form in (intake, theirs):
        bob_client.post(url, {"form": str(form.public_id)})
    assert not FormAssignment.objects.exists()
    html = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert "New patient intake</option>" not in html and "Theirs" not in html
    assert "No forms to assign yet. An admin makes them under Admin → Forms." in html


def carol_admin(carol: StaffMember) -> StaffMember:
    return StaffMember.objects.get(practice=carol.practice, role=StaffMember.Role.ADMIN)


def test_another_practices_patient_is_not_found(carol_client, intake, patient_a):
    url = reverse("office:form_assign", args=[patient_a.public_id])
    assert carol_client.post(url, {"form": str(intake.public_id)}).status_code == 404
    assert not FormAssignment.objects.exists()


def test_with_forms_off_the_page_says_patients_do_not_see_them(bob_client, alice, patient_a):
    make_form(alice, "Consent")
    html = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert "Forms are switched off (Admin → Website)" in html
    assert 'href="/office/forms/"' not in html  # nor in the menu
    bob_client.post(
        reverse("office:form_assign", args=[patient_a.public_id]),
        {"form": str(Form.objects.get().public_id)},
    )
    page = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert "so it shows in the portal once they are switched on." in page


# The list -------------------------------------------------------------------------------------


def test_submissions_are_listed_newest_first_with_who_sent_them(
    bob_client, alice, intake, ada, patient_a
):
    first = submitted(alice, intake, ada)
    mary = PortalActor(account=add_guardian(alice, patient_a).account, patient=patient_a)
    consent = make_form(alice, "Consent")
    second = submitted(alice, consent, mary)
    html = bob_client.get(SUBMISSIONS).content.decode()
    assert '<li><a href="/office/forms/" aria-current="page">Forms</a></li>' in html
    rows = re.findall(r"<tr>.*?</tr>", html.split("<tbody>")[1], re.S)
    assert len(rows) == 2
    assert reverse("office:submission", args=[second.public_id]) in rows[0]
    assert "Consent" in rows[0] and "Mary Lovelace (authorized user)" in rows[0]
    assert reverse("office:submission", args=[first.public_id]) in rows[1]
    assert ">The patient</td>" in rows[1] and ">In the chart</td>" in rows[1]
    when = timezone.localtime(first.submitted_at).strftime("%m/%d/%Y")
    assert when in rows[1]
    assert (
        f'<a href="{reverse("office:patient", args=[patient_a.public_id])}">Lovelace, Ada</a>'
        in (rows[1])
    )


def test_the_list_filters_by_form_and_by_patient(bob_client, alice, intake, ada, patient_b):
    consent = make_form(alice, "Consent")
    mine = submitted(alice, intake, ada)
    other = submitted(alice, consent, ada)
    bea = patient_actor(alice, patient_b)
    hers = submitted(alice, intake, bea)

    def listed(params) -> list[int]:
        response = bob_client.get(SUBMISSIONS, params)
        return [row.submission.pk for row in response.context["rows"]]

    assert listed({"form": str(intake.public_id)}) == [hers.pk, mine.pk]
    assert listed({"form": str(consent.public_id)}) == [other.pk]
    assert listed({"patient": str(patient_b.public_id)}) == [hers.pk]
    both = {"form": str(intake.public_id), "patient": str(ada.patient.public_id)}
    assert listed(both) == [mine.pk]
    html = bob_client.get(SUBMISSIONS, {"form": str(consent.public_id)}).content.decode()
    assert f'<option value="{consent.public_id}" selected>Consent</option>' in html
    assert listed({"form": "nonsense"}) == [hers.pk, other.pk, mine.pk]  # no filter
    nothing = bob_client.get(SUBMISSIONS, {"form": "00000000-0000-0000-0000-000000000000"})
    assert "No submitted forms match this choice." in nothing.content.decode()


def test_admin_forms_links_each_forms_submissions(alice_client, alice, intake, ada):
    submitted(alice, intake, ada)
    html = alice_client.get(reverse("office:forms")).content.decode()
    assert (
        f'<a href="{SUBMISSIONS}?form={intake.public_id}">1<span class="visually-hidden">' in html
    )


def test_another_practice_sees_none_of_them(carol_client, alice, intake, ada):
    submitted(alice, intake, ada)
    response = carol_client.get(SUBMISSIONS, {"form": str(intake.public_id)})
    assert response.context["rows"] == []
    assert "No submitted forms match this choice." in response.content.decode()


def many(
    alice: StaffMember, form: Form, ada: PortalActor, count: int, *, others: bool = True
) -> None:
    """``count`` submitted forms, straight into the table (the list reads, it does not file):
    Ada's, and (with ``others``) two in three of other patients'."""
    version = FormVersion.objects.get(form=form)
    now = timezone.now()
    Submission.objects.bulk_create(
        Submission(
            practice=alice.practice,
            patient=add_patient(alice, f"P{n}", "Many") if others and n % 3 else ada.patient,
            form=form,
            version=version,
            status=Submission.Status.SUBMITTED,
            answers={"name": f"P{n}"},
            started_by=ada.account,
            submitted_by=ada.account,
            submitted_by_name="Ada Lovelace",
            submitted_at=now - datetime.timedelta(minutes=n),
        )
        for n in range(count)
    )


def _queries(client: Client, url: str, params: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200 and response.context["rows"]
    return len(queries)


def test_the_list_costs_the_same_for_3_or_30(bob_client, alice, intake, ada):
    many(alice, intake, ada, 3)
    bob_client.get(SUBMISSIONS)  # the first page after sign-in stamps the session's use
    three = _queries(bob_client, SUBMISSIONS)
    many(alice, intake, ada, 27)
    assert _queries(bob_client, SUBMISSIONS) == three
    html = bob_client.get(SUBMISSIONS).content.decode()
    assert html.count("<tr>") == 25 + 1  # a page of 25, and the head
    assert _queries(bob_client, SUBMISSIONS, {"page": "last"}) == three
    following = found(r'<a href="([^"]+)" rel="next">', html)
    assert _queries(bob_client, SUBMISSIONS + unescape(following)) == three
    filtered = {"form": str(intake.public_id)}
    assert _queries(bob_client, SUBMISSIONS, filtered) == three
    # Every page together lists each submission once, newest first.
    seen, url = [], SUBMISSIONS
    while url:
        response = bob_client.get(url)
        seen += [row.submission.pk for row in response.context["rows"]]
        link = re.search(r'<a href="([^"]+)" rel="next">', response.content.decode())
        url = SUBMISSIONS + unescape(link.group(1)) if link else ""
    expected = Submission.objects.order_by("-submitted_at", "-id").values_list("pk", flat=True)
    assert seen == list(expected)


# A submission ---------------------------------------------------------------------------------


def test_a_submission_shows_every_answer_as_its_pdf_does_and_records_the_viewing(
    bob_client, alice, intake, ada, patient_a
):
    done = submitted(alice, intake, ada)
    url = reverse("office:submission", args=[done.public_id])
    response = bob_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    text = page_text(html)
    for row in answer_rows(done):
        assert " ".join(row.label.split()) in text
        if row.kind == "answer":
            assert " ".join(row.text.split()) in text, row
    assert "Signed by Ada Lovelace (“I agree”) on" in text
    # Planted HTML is shown as text, never run.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html and "<img src=x" not in html
    assert done.chart_file is not None
    file_url = reverse(
        "office:chart_file_preview", args=[patient_a.public_id, done.chart_file.public_id]
    )
    assert f'<a href="{file_url}">New patient intake.pdf</a>' in html
    assert "Make the PDF again" not in html
    assert "The patient" in text and "Form version 1" in text
    event = AuditEvent.objects.get(action=AuditEvent.Action.FORM_SUBMISSION_VIEWED)
    assert (event.patient, event.object_id, event.object_label) == (
        patient_a,
        str(done.public_id),
        "New patient intake",
    )


def test_the_patients_logs_say_the_office_viewed_the_form(bob_client, alice, intake, ada):
    done = submitted(alice, intake, ada)
    bob_client.get(reverse("office:submission", args=[done.public_id]))
    event = AuditEvent.objects.get(action=AuditEvent.Action.FORM_SUBMISSION_VIEWED)
    assert event.action in PORTAL_LOG_ACTIONS
    [entry] = log_entries([event], practice=alice.practice)
    assert entry.what == "The office viewed the submitted form “New patient intake”"
    assert entry.by_office


def test_a_draft_is_not_the_offices_to_read(bob_client, alice, intake, ada):
    form_assign(actor=actor(alice), form=intake, patient=ada.patient)
    draft = draft_save(actor=ada, form=intake, version_number=1, posted=Posted(GOOD))
    assert bob_client.get(reverse("office:submission", args=[draft.public_id])).status_code == 404
    assert bob_client.get(SUBMISSIONS).context["rows"] == []


def test_another_practices_submission_is_not_found(carol_client, alice, intake, ada):
    done = submitted(alice, intake, ada)
    assert carol_client.get(reverse("office:submission", args=[done.public_id])).status_code == 404
    refile = reverse("office:submission_refile", args=[done.public_id])
    assert carol_client.post(refile).status_code == 404


def test_a_missing_pdf_is_said_and_made_again(bob_client, alice, intake, ada, monkeypatch):
    with monkeypatch.context() as patch:
        full_disk(patch, room=1_000)
        done = submitted(alice, intake, ada)
    assert done.chart_file is None and done.pdf_error
    url = reverse("office:submission", args=[done.public_id])
    html = bob_client.get(url).content.decode()
    assert "The PDF of this form is not in the chart." in html
    assert done.pdf_error in unescape(html)
    assert "Ada" in page_text(html)  # the answers are there all the same
    listed = bob_client.get(SUBMISSIONS).content.decode()
    assert '<span class="status status-failed">Not made</span>' in listed

    refile = reverse("office:submission_refile", args=[done.public_id])
    response = bob_client.post(refile)
    assert response.status_code == 302 and response["Location"] == url
    done.refresh_from_db()
    assert done.chart_file is not None and done.pdf_error == ""
    page = bob_client.get(url).content.decode()
    assert "The PDF was made and is in the patient’s chart." in page
    assert "Make the PDF again" not in page
    # Pressed twice (a double click): one file.
    bob_client.post(refile)
    assert ChartFile.objects.filter(patient=ada.patient).count() == 1
    assert "The PDF is in the chart already; nothing was changed." in unescape(
        bob_client.get(url).content.decode()
    )


def test_a_pdf_that_fails_again_keeps_the_answers_and_says_so(
    bob_client, alice, intake, ada, monkeypatch
):
    full_disk(monkeypatch, room=1_000)
    done = submitted(alice, intake, ada)
    response = bob_client.post(reverse("office:submission_refile", args=[done.public_id]))
    page = bob_client.get(response["Location"]).content.decode()
    assert "The PDF could not be made this time either. The answers are kept" in page
    done.refresh_from_db()
    assert done.chart_file is None and "could not be made" in done.pdf_error
    assert done.answers["name"] == "Ada" and done.status == Submission.Status.SUBMITTED
    assert not ChartFile.objects.exists()


def test_the_patients_page_lists_their_submitted_forms(bob_client, alice, intake, ada, patient_a):
    done = submitted(alice, intake, ada)
    html = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    row = found(r'<table class="table forms-submitted".*?</table>', html)
    assert (
        f'<a href="{reverse("office:submission", args=[done.public_id])}">New patient intake</a>'
        in row
    )
    assert "In the chart" in row
    assert "No forms are waiting for Ada." in html  # submitted: no longer waiting


def test_the_patients_page_costs_the_same_with_more_forms(
    bob_client, alice, intake, ada, patient_a
):
    page = reverse("office:patient", args=[patient_a.public_id])
    submitted(alice, intake, ada)
    bob_client.get(page)
    with CaptureQueriesContext(connection) as before:
        bob_client.get(page)
    for n in range(3):
        form = make_form(alice, f"Form {n}", fields=[Field("a", kinds.SHORT_TEXT, "A")])
        form_assign(actor=actor(alice), form=form, patient=patient_a)
        if n:
            draft_save(actor=ada, form=form, version_number=1, posted=Posted({"f-a": "x"}))
    many(alice, intake, ada, 12, others=False)
    with CaptureQueriesContext(connection) as after:
        html = bob_client.get(page).content.decode()
    assert len(after) == len(before)
    assert "All of Ada’s submitted forms" in html
    assert f"{SUBMISSIONS}?patient={patient_a.public_id}" in html


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test's few rows: judge the indexes
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("choice", "index"),
    [
        ("", "submission_list"),
        ("last", "submission_list"),
        ("form", "submission_form_list"),
    ],
)
def test_an_index_serves_the_list_in_its_order(bob_client, alice, intake, ada, choice, index):
    if connection.vendor != "postgresql":
        pytest.skip("the plans checked are PostgreSQL's")
    many(alice, intake, ada, 30)
    params = {"": {}, "last": {"page": "last"}, "form": {"form": str(intake.public_id)}}[choice]
    with CaptureQueriesContext(connection) as queries:
        assert bob_client.get(SUBMISSIONS, params).status_code == 200
    [sql] = [q["sql"] for q in queries if 'FROM "intake_submission"' in q["sql"]]
    plan = _plan(sql)
    # The page's rows come from the index in the list's order: no table scan, no sort.
    assert re.search(rf"Index Scan( Backward)? using {index} on intake_submission", plan), plan
    assert "Sort" not in plan.split("SubPlan")[0], plan
