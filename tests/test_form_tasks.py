"""A submitted form is a task for the office to review, beside web messages and appointments."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinicportal.intake.models import Submission
from clinicportal.intake.services import submission_submit
from clinicportal.messaging.models import Task
from tests.test_intake import GOOD, Posted, intake  # noqa: F401 - the fixture
from tests.upload_faults import full_disk


def test_a_submission_makes_one_review_task_in_its_transaction(intake, bob_client):  # noqa: F811
    form, ada = intake
    submission = submission_submit(actor=ada, form=form, version_number=1, posted=Posted(GOOD))
    task = Task.objects.get()
    assert (task.kind, task.category, task.submission_id) == ("form", "form", submission.pk)
    assert task.is_open and task.patient_id == submission.patient_id
    page = bob_client.get(reverse("office:tasks")).content.decode()
    assert "Form submitted: New patient intake" in page
    filtered = bob_client.get(reverse("office:tasks"), {"category": "form"}).content.decode()
    assert "Form submitted: New patient intake" in filtered
    messages_only = bob_client.get(reverse("office:tasks"), {"category": "refill"})
    assert "Form submitted" not in messages_only.content.decode()
    detail = bob_client.get(reverse("office:task", args=[task.public_id])).content.decode()
    assert reverse("office:submission", args=[submission.public_id]) in detail
    assert "Filed among the chart files" in detail
    assert (
        bob_client.post(reverse("office:task_sign_off", args=[task.public_id])).status_code == 302
    )
    task.refresh_from_db()
    assert not task.is_open


def test_the_task_says_when_the_pdf_could_not_be_made(intake, bob_client, monkeypatch):  # noqa: F811
    form, ada = intake
    full_disk(monkeypatch, room=1_000)
    submission_submit(actor=ada, form=form, version_number=1, posted=Posted(GOOD))
    task = Task.objects.get()
    listed = bob_client.get(reverse("office:tasks")).content.decode()
    assert "The PDF could not be made; the answers are kept." in listed
    detail = bob_client.get(reverse("office:task", args=[task.public_id])).content.decode()
    assert "could not be made" in detail and "make the PDF again" in detail


def test_a_draft_makes_no_task(intake):  # noqa: F811
    from clinicportal.intake.services import draft_save

    form, ada = intake
    draft_save(actor=ada, form=form, version_number=1, posted=Posted(GOOD))
    assert Submission.objects.get().status == "draft"
    assert not Task.objects.exists()


@pytest.mark.parametrize("kind", ["form"])
def test_a_form_task_must_name_its_submission(kind, alice, patient_a):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(
            practice=alice.practice,
            patient=patient_a,
            kind=kind,
            category="form",
            created_at=timezone.now(),
        )
