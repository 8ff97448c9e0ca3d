"""PAY BILLS: the patient's balance, invoices (as PDFs), payments, and paying online.

Shown only while the practice has Pay Bills on; otherwise every route here is a 404. "Pay"
sends the patient to the processor's page; they come back to PAY BILLS, where the payment
shows once the processor has confirmed it (billing.payments).

The balance due is one sum over every invoice; the invoices and the payments are each a keyset
page, newest first (billing.selectors), whose place is kept in the address: ``invoices=`` and
``payments=``, each list's links keeping the other's place.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from clinicportal.billing.models import Invoice, PaymentAttempt
from clinicportal.billing.payments import payment_start
from clinicportal.billing.printing import PrintOptions, invoice_pdf
from clinicportal.billing.processors import online_payments_ready
from clinicportal.billing.selectors import (
    portal_attempt,
    portal_balance,
    portal_invoice,
    portal_invoice_detail,
    portal_invoices_page,
    portal_payments_page,
    totals,
)
from clinicportal.billing.services import invoice_patient_download
from clinicportal.core.forms import service_errors
from clinicportal.core.money import NotAnAmount, cents_from_text, dollars
from clinicportal.portal.auth import PortalRequest, portal_required

SECTION = "bills"
LISTS = ("invoices", "payments")  # each list's place in the address: its page's cursor


class PayForm(forms.Form):
    amount = forms.CharField(
        label=gettext_lazy("Amount to pay"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_amount(self) -> int:
        try:
            return cents_from_text(self.cleaned_data["amount"])
        except NotAnAmount:
            raise ValidationError(
                _("Please enter an amount in dollars, e.g. 45.00"), code="amount"
            ) from None


def _pay_form(invoice: Invoice, data: Any = None) -> PayForm:
    balance = totals(invoice).balance
    return PayForm(
        data,
        prefix=f"pay-{invoice.number}",
        initial={"amount": f"{balance / 100:.2f}", "key": uuid.uuid4().hex},
    )


def pay_bills_on(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 404 on every PAY BILLS route while the practice has Pay Bills off."""

    @wraps(view)
    def wrapped(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.practice.pay_bills_enabled:
            raise Http404("Pay Bills is off.")
        return view(request, *args, **kwargs)

    return wrapped


def _kept(places: dict[str, str], *names: str) -> str:
    """The places of ``names`` as query parameters, such as "payments=a2026-…_7&" ("" if none)."""
    kept = urlencode({name: places[name] for name in names if places[name]})
    return f"{kept}&" if kept else ""


def _page(
    request: PortalRequest, *, failed: tuple[Invoice, PayForm] | None = None, status: int = 200
) -> HttpResponse:
    places = {name: request.GET.get(name, "") for name in LISTS}
    invoices = portal_invoices_page(actor=request.portal, cursor=places["invoices"])
    rows = []
    for invoice in invoices.rows:
        form = failed[1] if failed and failed[0].pk == invoice.pk else _pay_form(invoice)
        rows.append((invoice, totals(invoice), form))
    attempt = None
    if "paid" in request.GET:
        attempt = portal_attempt(actor=request.portal, public_id=request.GET["paid"])
    here = _kept(places, *LISTS).removesuffix("&")
    context = {
        "rows": rows,
        "invoices": invoices,
        "payments": portal_payments_page(actor=request.portal, cursor=places["payments"]),
        "balance": dollars(portal_balance(actor=request.portal)),
        # Each list's links keep the other list's place; Pay comes back to these pages.
        "invoice_params": _kept(places, "payments"),
        "payment_params": _kept(places, "invoices"),
        "here": f"?{here}" if here else "",
        "ready": online_payments_ready(request.practice),
        "attempt": attempt,
        "attempt_paid": attempt is not None and attempt.status == PaymentAttempt.Status.PAID,
        "section": SECTION,
    }
    return render(request, "portal/bills.html", context, status=status)


@require_GET
@portal_required()
@pay_bills_on
def bills(request: PortalRequest) -> HttpResponse:
    """The balance due, the invoices with a Pay form each, and the payments made."""
    return _page(request)


@require_POST
@portal_required()
@pay_bills_on
def bill_pay(request: PortalRequest, invoice_id: uuid.UUID) -> HttpResponse:
    """Start paying an invoice: off to the processor's page, or the form again with why not."""
    invoice = portal_invoice(actor=request.portal, public_id=invoice_id)
    form = _pay_form(invoice, request.POST)
    if form.is_valid():
        try:
            url = payment_start(
                actor=request.portal,
                invoice=invoice,
                amount_cents=form.cleaned_data["amount"],
                key=form.cleaned_data["key"],
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            return HttpResponseRedirect(url)
    return _page(request, failed=(invoice, form), status=400)


@require_GET
@portal_required()
@pay_bills_on
def bill_pdf(request: PortalRequest, invoice_id: uuid.UUID) -> HttpResponse:
    """The invoice as a PDF, as the office prints it (recorded in LOGS)."""
    invoice = portal_invoice(actor=request.portal, public_id=invoice_id)
    detail = portal_invoice_detail(actor=request.portal, invoice=invoice)
    invoice_patient_download(actor=request.portal, invoice=invoice)
    pdf = invoice_pdf(
        detail,
        PrintOptions(),
        practice=request.practice,
        patient=invoice.patient,
        portal_text=None,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="invoice-{invoice.number}.pdf"'
    return response
