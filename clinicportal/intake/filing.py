"""A submitted form into the chart: its PDF among the chart files, and the office's review task.

Called inside the submission's transaction. The PDF is written from ``answer_rows``, the same
rows the office's screen shows, so the two say the same. If the PDF cannot be made (WeasyPrint
fails, storage is full), the submission is kept all the same, with ``pdf_error`` saying why: the
answers are never lost for want of their PDF, and the office can make it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.core.pdf import pdf_from_html
from clinicportal.intake import fields as kinds
from clinicportal.intake.models import Submission
from clinicportal.patients.services import chart_file_add_generated_by

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Row:
    """One line of a submission as it reads back: a heading, a note, or a question and answer."""

    kind: str  # "heading", "help" or "answer"
    label: str
    text: str = ""
    help: str = ""


def answer_rows(submission: Submission) -> list[Row]:
    rows = []
    for field in kinds.fields_of(submission.version.fields):
        if field.kind == kinds.HEADING:
            rows.append(Row("heading", field.label, help=field.help))
        elif field.kind == kinds.HELP:
            rows.append(Row("help", field.label, help=field.help))
        else:
            answer = submission.answers.get(field.key)
            rows.append(Row("answer", field.label, kinds.answer_text(field, answer)))
    return rows


def submission_pdf(submission: Submission) -> bytes:
    context: dict[str, Any] = {
        "submission": submission,
        "form": submission.form,
        "patient": submission.patient,
        "practice": submission.patient.practice,
        "rows": answer_rows(submission),
    }
    return pdf_from_html(render_to_string("intake/submission_document.html", context))


def submission_file(actor: PortalActor | StaffActor, submission: Submission) -> None:
    """Put the submission's PDF in the chart (or say why not); inside its transaction."""
    try:
        data = submission_pdf(submission)
        with transaction.atomic():  # a storage fault undoes only this part
            chart_file = chart_file_add_generated_by(
                actor=actor,
                patient=submission.patient,
                data=data,
                content_type="application/pdf",
                filename=f"{submission.form.name}.pdf",
                description=_("%(form)s (submitted online)") % {"form": submission.form.name},
                document_date=timezone.localdate(submission.submitted_at),
            )
    except Exception as exc:
        logger.exception("The PDF of submission %s could not be made", submission.public_id)
        submission.pdf_error = _("The PDF could not be made (%(why)s).") % {
            "why": type(exc).__name__
        }
        submission.chart_file = None
    else:
        submission.chart_file = chart_file
        submission.pdf_error = ""
    submission.save(update_fields=["chart_file", "pdf_error", "updated_at"])
