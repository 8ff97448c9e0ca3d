"""Print an invoice: View/Print Options with a preview, and the same invoice as a PDF."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from clinicportal.billing import printing
from clinicportal.billing.selectors import (
    InvoiceDetail,
    invoice_detail,
    invoice_get,
    invoice_settings_for,
)
from clinicportal.billing.services import invoice_print_record, invoice_view
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.patients import selectors as patient_selectors
from clinicportal.patients.models import Patient


@dataclass(frozen=True)
class _Printing:
    patient: Patient
    detail: InvoiceDetail
    options: printing.PrintOptions
    portal_text: str | None  # None: the patient has no portal access

    def html(self, request: StaffRequest) -> str:
        return printing.invoice_html(
            self.detail,
            self.options,
            practice=request.actor.practice,
            patient=self.patient,
            portal_text=self.portal_text,
        )


def _printing(request: StaffRequest, patient_id: uuid.UUID, invoice_id: uuid.UUID) -> _Printing:
    actor = request.actor
    patient = patient_selectors.patient_get(actor=actor, public_id=patient_id)
    invoice = invoice_get(actor=actor, patient=patient, public_id=invoice_id)
    invoice.patient = patient  # the same row, read once
    config = invoice_settings_for(actor.practice)
    return _Printing(
        patient=patient,
        detail=invoice_detail(actor=actor, invoice=invoice),
        options=printing.PrintOptions.from_query(
            request.GET, include_portal_info=config.include_portal_info
        ),
        portal_text=printing.portal_block(actor.practice, patient),
    )


@require_GET
@staff_required
def invoice_print(
    request: StaffRequest, patient_id: uuid.UUID, invoice_id: uuid.UUID
) -> HttpResponse:
    found = _printing(request, patient_id, invoice_id)
    invoice = found.detail.invoice
    invoice_view(actor=request.actor, invoice=invoice)
    context = {
        "patient": found.patient,
        "invoice": invoice,
        "options": found.options,
        "column_choices": [(name, printing.COLUMN_LABELS[name]) for name in printing.COLUMNS],
        "has_access": found.portal_text is not None,
        "preview": found.html(request),
    }
    return render(request, "office/invoice_print.html", context)


def pdf_filename(number: int, patient: Patient) -> str:
    name = f"{patient.first_name} {patient.last_name}".strip()
    for character in '/\\:*?"<>|':
        name = name.replace(character, "-")
    return _("Invoice %(number)s - %(name)s.pdf") % {"number": number, "name": name}


@require_GET
@staff_required
def invoice_pdf(
    request: StaffRequest, patient_id: uuid.UUID, invoice_id: uuid.UUID
) -> HttpResponse:
    found = _printing(request, patient_id, invoice_id)
    invoice = found.detail.invoice
    pdf = printing.invoice_pdf(
        found.detail,
        found.options,
        practice=request.actor.practice,
        patient=found.patient,
        portal_text=found.portal_text,
    )
    invoice_print_record(actor=request.actor, invoice=invoice)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        content_disposition_header(True, pdf_filename(invoice.number, found.patient))
        or "attachment"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    return response
