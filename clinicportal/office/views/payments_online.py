"""Billing → Online payments: the portal's card payments as they arrive (issue 13).

Every payment a patient (or an authorized user) started under PAY BILLS is listed, newest
first, from "Pay" on: waiting for the processor, paid, declined or not completed. One still
waiting long after it started is marked, so that staff look it up on the processor's dashboard.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.views.decorators.http import require_GET

from clinicportal.billing.models import PaymentAttempt
from clinicportal.billing.selectors import (
    OnlineFilter,
    attempt_unconfirmed,
    online_payments_page,
)
from clinicportal.core.reversing import reverse_with_id_slot, with_id
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.views.invoices import invoice_url_maker


@dataclass(frozen=True)
class AttemptRow:
    """One row of the list, its words and links made here rather than by template tags."""

    attempt: PaymentAttempt
    started: str  # "11/29/2026 5:56 PM"
    confirmed: str  # when the payment was recorded, or "" until it is
    payer: str  # the authorized user's name, or "" when the patient paid
    amount_cents: int  # what the processor charged once paid; what was asked for until then
    refunded_cents: int
    unconfirmed: bool  # still waiting for the processor, long after it started
    patient_url: str
    invoice_url: str


def _when(moment: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "m/d/Y g:i A")


def _row(
    attempt: PaymentAttempt, now: datetime.datetime, patient_url: str, invoice_url: str
) -> AttemptRow:
    payment = attempt.payment
    values = vars(attempt)  # the selector's annotations
    return AttemptRow(
        attempt,
        started=_when(attempt.created_at),
        confirmed=_when(payment.received_at) if payment else "",
        payer="" if values["paid_by_patient"] else values["payer_name"],
        amount_cents=payment.amount_cents if payment else attempt.amount_cents,
        refunded_cents=payment.refunded_cents if payment else 0,
        unconfirmed=attempt_unconfirmed(attempt, now),
        patient_url=patient_url,
        invoice_url=invoice_url,
    )


@require_GET
@staff_required
def payments_online(request: StaffRequest) -> HttpResponse:
    """Every online payment attempt of the practice, newest first, filtered by outcome."""
    chosen = OnlineFilter.parse(request.GET.dict())
    cursor = request.GET.get("page", "")
    page = online_payments_page(actor=request.actor, chosen=chosen, cursor=cursor)
    if not page.rows and cursor:
        # Nothing lies past this page's mark any more (a stale link): start again.
        page = online_payments_page(actor=request.actor, chosen=chosen, cursor=None)
    now = timezone.now()
    invoice_url = invoice_url_maker()
    patient_url = reverse_with_id_slot("office:patient")
    rows = [
        _row(
            attempt,
            now,
            patient_url=with_id(patient_url, attempt.patient.public_id),
            invoice_url=invoice_url(attempt.patient.public_id, attempt.invoice.public_id),
        )
        for attempt in page.rows
    ]
    query = urlencode({"status": chosen.status}) if chosen.status else ""
    context = {
        "page": page,
        "rows": rows,
        "chosen": chosen,
        "extra_params": f"{query}&" if query else "",
        "filtered": chosen != OnlineFilter(),
    }
    return render(request, "office/payments_online.html", context)
