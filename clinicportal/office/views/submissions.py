"""Forms: what patients submitted, for every staff member to read, and its PDF in the chart.

The list pages newest first with ``core/keyset.py``; a submission's page shows its answers
through ``answer_rows``, the very rows its PDF is made from. When the PDF could not be made, the
answers are there all the same, with a button to make it again.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clinicportal.core.reversing import reverse_with_id_slot, with_id
from clinicportal.intake.filing import Row, answer_rows
from clinicportal.intake.models import Submission
from clinicportal.intake.selectors import (
    SubmissionFilter,
    filter_patient,
    form_names,
    office_submission,
    submissions_page,
)
from clinicportal.intake.services import submission_office_view, submission_refile
from clinicportal.office.auth import StaffRequest, staff_required


def _when(moment: datetime.datetime | None) -> str:
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "m/d/Y g:i A")


def _submitter(submission: Submission) -> str:
    """Who submitted it: the patient, or the authorized user who filled it for them."""
    if vars(submission).get("by_patient"):
        return _("The patient")
    return _("%(name)s (authorized user)") % {"name": submission.submitted_by_name}


@dataclass(frozen=True)
class SubmissionRow:
    """One row of the list, its words and links made here rather than by template tags."""

    submission: Submission
    submitted: str  # "11/29/2026 5:56 PM"
    by: str
    url: str
    patient_url: str


@require_GET
@staff_required
def submissions(request: StaffRequest) -> HttpResponse:
    """The practice's submitted forms, newest first; one form's, or one patient's."""
    chosen = SubmissionFilter.parse(request.GET.dict())
    cursor = request.GET.get("page", "")
    page = submissions_page(actor=request.actor, chosen=chosen, cursor=cursor)
    if not page.rows and cursor:
        page = submissions_page(actor=request.actor, chosen=chosen, cursor=None)  # a stale link
    url = reverse_with_id_slot("office:submission")
    patient_url = reverse_with_id_slot("office:patient")
    rows = [
        SubmissionRow(
            submission,
            submitted=_when(submission.submitted_at),
            by=_submitter(submission),
            url=with_id(url, submission.public_id),
            patient_url=with_id(patient_url, submission.patient.public_id),
        )
        for submission in page.rows
    ]
    query = urlencode({k: v for k, v in (("form", chosen.form), ("patient", chosen.patient)) if v})
    context = {
        "page": page,
        "rows": rows,
        "chosen": chosen,
        "forms": form_names(actor=request.actor),
        "patient": filter_patient(actor=request.actor, chosen=chosen),
        "extra_params": f"{query}&" if query else "",
        "filtered": chosen != SubmissionFilter(),
    }
    return render(request, "office/submissions.html", context)


@dataclass(frozen=True)
class Block:
    """Rows shown together: a heading, a note, or the questions and answers between them."""

    kind: str  # "heading", "help" or "answer"
    rows: list[Row]


def _blocks(rows: list[Row]) -> list[Block]:
    blocks: list[Block] = []
    for row in rows:
        if row.kind == "answer" and blocks and blocks[-1].kind == "answer":
            blocks[-1].rows.append(row)
        else:
            blocks.append(Block(row.kind, [row]))
    return blocks


@require_GET
@staff_required
def submission(request: StaffRequest, submission_id: uuid.UUID) -> HttpResponse:
    """A submitted form: who sent it and when, its answers, and its PDF in the chart."""
    found = office_submission(actor=request.actor, public_id=submission_id)
    submission_office_view(actor=request.actor, submission=found)
    context = {
        "submission": found,
        "patient": found.patient,
        "blocks": _blocks(answer_rows(found)),
        "submitted": _when(found.submitted_at),
        "by": _submitter(found),
    }
    return render(request, "office/submission.html", context)


@require_POST
@staff_required
def submission_refile_view(request: StaffRequest, submission_id: uuid.UUID) -> HttpResponse:
    """Make the PDF again, for a submission whose PDF could not be made."""
    found = office_submission(actor=request.actor, public_id=submission_id)
    had_file = found.chart_file_id is not None
    done = submission_refile(actor=request.actor, submission=found)
    if done.chart_file_id is None:
        messages.error(
            request,
            _(
                "The PDF could not be made this time either. The answers are kept; please "
                "try again later, and tell your administrator if it goes on."
            ),
        )
    elif had_file:
        messages.info(request, _("The PDF is in the chart already; nothing was changed."))
    else:
        messages.success(request, _("The PDF was made and is in the patient’s chart."))
    return redirect("office:submission", submission_id=found.public_id)
