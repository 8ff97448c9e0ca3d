"""Billing: the practice's invoices, an invoice, its payments and adjustments (issue 13).

A draft is created and edited with its lines; finalizing fixes it, and from then on only
adjustments and payments change what is owed. Amounts are typed in dollars and kept in cents.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicportal.accounts.selectors import patient_portal_username
from clinicportal.billing import services
from clinicportal.billing.models import Invoice, Payment
from clinicportal.billing.selectors import (
    invoice_detail,
    invoice_get,
    invoices_for_practice,
    online_payments_today,
    payments_on,
    totals,
    totals_added,
)
from clinicportal.billing.services import LineDraft
from clinicportal.core.forms import service_errors
from clinicportal.core.money import dollars
from clinicportal.core.pagination import counted_page
from clinicportal.core.reversing import ID_SLOT, reverse_with_id_slot, with_id
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.invoice_forms import (
    AdjustmentForm,
    BaseLineFormSet,
    InvoiceForm,
    PaymentForm,
    VoidForm,
    line_formset,
)
from clinicportal.office.once import Sent, submit_once
from clinicportal.patients import selectors as patient_selectors
from clinicportal.patients.models import Patient

INVOICES_PER_PAGE = 25


def invoice_url_maker() -> Callable[[uuid.UUID, uuid.UUID], str]:
    """A function giving an invoice's URL from its patient's and its own id; reversed once."""
    slotted = reverse("office:invoice", args=[ID_SLOT, ID_SLOT])

    def make(patient_id: uuid.UUID, invoice_id: uuid.UUID) -> str:
        return with_id(slotted, invoice_id).replace(str(ID_SLOT), str(patient_id), 1)

    return make


@dataclass(frozen=True)
class InvoiceRow:
    invoice: Invoice
    url: str


@require_GET
@staff_required
def billing(request: StaffRequest) -> HttpResponse:
    """The practice's invoices, newest first."""
    page = counted_page(
        invoices_for_practice(actor=request.actor), INVOICES_PER_PAGE, request.GET.get("page")
    )
    url = invoice_url_maker()
    invoices = totals_added(actor=request.actor, invoices=list(page.object_list))
    rows = [InvoiceRow(i, url(i.patient.public_id, i.public_id)) for i in invoices]
    context = {
        "page": page,
        "rows": rows,
        "patient_url": reverse_with_id_slot("office:patient"),
        "online_today": online_payments_today(actor=request.actor),
    }
    return render(request, "office/billing.html", context)


def _patient_and_invoice(
    request: StaffRequest, patient_id: uuid.UUID, invoice_id: uuid.UUID
) -> tuple[Patient, Invoice]:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    invoice = invoice_get(actor=request.actor, patient=patient, public_id=invoice_id)
    invoice.patient = patient
    return patient, invoice


def _url(invoice: Invoice) -> str:
    return reverse("office:invoice", args=[invoice.patient.public_id, invoice.public_id])


def _not_now(request: StaffRequest, invoice: Invoice, why: str) -> HttpResponse:
    """The answer to a change the invoice's status does not allow: say so, change nothing."""
    context = {"patient": invoice.patient, "invoice": invoice, "why": why}
    return render(request, "office/invoice_not_now.html", context, status=409)


def _fixed_reason(invoice: Invoice) -> str:
    return _("Invoice #%(number)s is %(status)s and can no longer be changed.") % {
        "number": invoice.number,
        "status": invoice.get_status_display().lower(),
    }


def _lines_errors(exc: ValidationError) -> tuple[ValidationError, list[str]]:
    """Split the service's "lines" errors (shown above the lines) from the others."""
    if not hasattr(exc, "error_dict") or "lines" not in exc.error_dict:
        return exc, []
    rest = {field: errors for field, errors in exc.error_dict.items() if field != "lines"}
    lines = [message for error in exc.error_dict["lines"] for message in error.messages]
    return ValidationError(rest), lines


def _form_page(
    request: StaffRequest,
    patient: Patient,
    form: InvoiceForm,
    lines: BaseLineFormSet,
    *,
    invoice: Invoice | None,
    lines_errors: list[str],
) -> HttpResponse:
    context = {
        "patient": patient,
        "invoice": invoice,
        "form": form,
        "lines": lines,
        "lines_errors": lines_errors,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "office/invoice_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def invoice_new(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """New invoice: the date, the provider and its lines; saved as a draft."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    form = InvoiceForm(request.POST or None)
    lines = line_formset(request.POST or None)
    lines_errors: list[str] = []

    def create() -> Sent:
        invoice = services.invoice_create(
            actor=request.actor,
            patient=patient,
            invoice_date=form.cleaned_data["invoice_date"],
            provider=form.cleaned_data["provider"],
            lines=lines.drafts(),
        )
        message = _("Invoice #%(number)s was saved as a draft.") % {"number": invoice.number}
        return Sent(_url(invoice), message)

    if request.method == "POST" and form.is_valid() & lines.is_valid():
        try:
            return submit_once(request, actor=request.actor, write=create)
        except ValidationError as exc:
            rest, lines_errors = _lines_errors(exc)
            service_errors(form, rest)
    return _form_page(request, patient, form, lines, invoice=None, lines_errors=lines_errors)


@require_http_methods(["GET", "POST"])
@staff_required
def invoice_edit(
    request: StaffRequest, patient_id: uuid.UUID, invoice_id: uuid.UUID
) -> HttpResponse:
    """Edit a draft: its date, provider and lines (all replaced)."""
    patient, invoice = _patient_and_invoice(request, patient_id, invoice_id)
    if not invoice.is_draft:
        return _not_now(request, invoice, _fixed_reason(invoice))
    if request.method == "POST":
        form = InvoiceForm(request.POST)
        lines = line_formset(request.POST)
    else:
        form = InvoiceForm(
            initial={"invoice_date": invoice.invoice_date, "provider": invoice.provider}
        )
        detail = invoice_detail(actor=request.actor, invoice=invoice)
        drafts = [
            LineDraft(
                description=line.description,
                unit_price_cents=line.unit_price_cents,
                quantity=line.quantity,
                service_code=line.service_code,
                diagnosis_codes=line.diagnosis_codes,
            )
            for line in detail.lines
        ]
        lines = line_formset(lines=drafts)
    lines_errors: list[str] = []
    if request.method == "POST" and form.is_valid() & lines.is_valid():
        try:
            services.invoice_update(
                actor=request.actor,
                invoice=invoice,
                invoice_date=form.cleaned_data["invoice_date"],
                provider=form.cleaned_data["provider"],
                lines=lines.drafts(),
            )
        except services.InvoiceFixed:
            return _not_now(request, invoice, _fixed_reason(invoice))
        except ValidationError as exc:
            rest, lines_errors = _lines_errors(exc)
            service_errors(form, rest)
        else:
            messages.success(request, _("The draft was saved."))
            return redirect(_url(invoice))
    return _form_page(request, patient, form, lines, invoice=invoice, lines_errors=lines_errors)


@require_GET
@staff_required
def invoice(request: StaffRequest, patient_id: uuid.UUID, invoice_id: uuid.UUID) -> HttpResponse:
    """The invoice: its lines, adjustments, payments and totals, and what can be done next."""
    patient, found = _patient_and_invoice(request, patient_id, invoice_id)
    detail = invoice_detail(actor=request.actor, invoice=found)
    services.invoice_view(actor=request.actor, invoice=found)
    context = {
        "patient": patient,
        "invoice": found,
        "detail": detail,
        "totals": totals(found),
        "has_access": patient_portal_username(practice=request.actor.practice, patient=patient)
        is not None,
    }
    return render(request, "office/invoice.html", context)


@require_POST
@staff_required
def invoice_finalize(
    request: StaffRequest, patient_id: uuid.UUID, invoice_id: uuid.UUID
) -> HttpResponse:
    _patient, found = _patient_and_invoice(request, patient_id, invoice_id)
    try:
        services.invoice_finalize(actor=request.actor, invoice=found)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, _("Invoice #%(number)s was finalized.") % {"number": found.number}
        )
    return redirect(_url(found))


@require_http_methods(["GET", "POST"])
@staff_required
def invoice_void(
    request: StaffRequest, patient_id: uuid.UUID, invoice_id: uuid.UUID
) -> HttpResponse:
    """Void: asks for the reason, which is kept with the invoice."""
    patient, found = _patient_and_invoice(request, patient_id, invoice_id)
    if found.status == Invoice.Status.VOID:
        return _not_now(request, found, _fixed_reason(found))
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invoice_void(
                actor=request.actor, invoice=found, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("Invoice #%(number)s is void.") % {"number": found.number})
            return redirect(_url(found))
    context = {"patient": patient, "invoice": found, "form": form, "totals": totals(found)}
    status = 400 if request.method == "POST" else 200
    return render(request, "office/invoice_void.html", context, status=status)


def _money_page(
    request: StaffRequest,
    found: Invoice,
    form: AdjustmentForm | PaymentForm,
    *,
    kind: str,
) -> HttpResponse:
    context = {"patient": found.patient, "invoice": found, "form": form, "totals": totals(found)}
    status = 400 if request.method == "POST" else 200
    return render(request, f"office/invoice_{kind}.html", context, status=status)


def _not_finalized(found: Invoice) -> str:
    if found.is_draft:
        return _("Invoice #%(number)s is a draft: finalize it first.") % {"number": found.number}
    return _("Invoice #%(number)s is void.") % {"number": found.number}


@require_http_methods(["GET", "POST"])
@staff_required
def invoice_adjust(
    request: StaffRequest, patient_id: uuid.UUID, invoice_id: uuid.UUID
) -> HttpResponse:
    """Add adjustment: take an amount off what is owed, saying why."""
    _patient, found = _patient_and_invoice(request, patient_id, invoice_id)
    if not found.is_finalized:
        return _not_now(request, found, _not_finalized(found))
    form = AdjustmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.adjustment_add(
                actor=request.actor,
                invoice=found,
                description=form.cleaned_data["description"],
                amount_cents=form.cleaned_data["amount"],
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(
                request,
                _("An adjustment of %(amount)s was added.")
                % {"amount": dollars(form.cleaned_data["amount"])},
            )
            return redirect(_url(found))
    return _money_page(request, found, form, kind="adjust")


@require_http_methods(["GET", "POST"])
@staff_required
def invoice_payment(
    request: StaffRequest, patient_id: uuid.UUID, invoice_id: uuid.UUID
) -> HttpResponse:
    """Record payment: cash, check or card in the office; taken once."""
    _patient, found = _patient_and_invoice(request, patient_id, invoice_id)
    if not found.is_finalized:
        return _not_now(request, found, _not_finalized(found))
    balance = totals(found).balance
    form = PaymentForm(request.POST or None, initial={"amount": f"{max(balance, 0) / 100:.2f}"})

    def record() -> Sent:
        amount = form.cleaned_data["amount"]
        services.payment_record(
            actor=request.actor,
            invoice=found,
            method=form.cleaned_data["method"],
            amount_cents=amount,
            reference=form.cleaned_data["reference"],
        )
        return Sent(
            _url(found),
            _("A payment of %(amount)s was recorded.") % {"amount": dollars(amount)},
        )

    if request.method == "POST" and form.is_valid():
        try:
            return submit_once(request, actor=request.actor, write=record)
        except ValidationError as exc:
            service_errors(form, exc)
    return _money_page(request, found, form, kind="payment")


@dataclass(frozen=True)
class PaymentRow:
    payment: Payment
    time: str
    invoice_url: str
    patient_url: str


def _day(text: str | None, today: datetime.date) -> tuple[datetime.date, bool]:
    """The day asked for, or today; and whether what was asked for was not a date.

    The calendar's first and last days count as not a date: the day before or after them, and
    the next midnight, are past the end of Python's calendar.
    """
    if not text:
        return today, False
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        return today, True
    if not datetime.date.min < day < datetime.date.max:
        return today, True
    return day, False


@require_GET
@staff_required
def payments_day(request: StaffRequest) -> HttpResponse:
    """Payments received: one day's, in the order received, with the day's total.

    Today, each day's bounds and the times are the practice's (payments_on takes the bounds).
    """
    zone = request.actor.practice.zone
    today = timezone.localdate(timezone=zone)
    day, bad_day = _day(request.GET.get("day"), today)
    found = list(payments_on(actor=request.actor, day=day))
    url = invoice_url_maker()
    patient_url = reverse_with_id_slot("office:patient")
    rows = [
        PaymentRow(
            payment,
            time=formats.time_format(timezone.localtime(payment.received_at, zone), "g:i A"),
            invoice_url=url(payment.patient.public_id, payment.invoice.public_id),
            patient_url=with_id(patient_url, payment.patient.public_id),
        )
        for payment in found
    ]
    one_day = datetime.timedelta(days=1)
    context: dict[str, Any] = {
        "day": day,
        "bad_day": bad_day,
        "rows": rows,
        "total": sum(p.amount_cents - p.refunded_cents for p in found),
        "previous_day": (day - one_day).isoformat(),
        "next_day": (day + one_day).isoformat(),
        "is_today": day == today,
    }
    return render(request, "office/payments_day.html", context)
