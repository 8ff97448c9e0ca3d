"""Refund a payment: in the office, or back to the card through the processor (issue 13)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicportal.billing import refunds
from clinicportal.billing.gateways import RefundRefused
from clinicportal.billing.models import Invoice, Payment, Refund
from clinicportal.billing.selectors import invoice_get, payment_get, refund_get
from clinicportal.core.forms import service_errors
from clinicportal.core.money import dollars
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.invoice_forms import RefundForm
from clinicportal.patients import selectors as patient_selectors


def _payment(
    request: StaffRequest, patient_id: uuid.UUID, invoice_id: uuid.UUID, payment_id: uuid.UUID
) -> tuple[Invoice, Payment]:
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    invoice = invoice_get(actor=request.actor, patient=patient, public_id=invoice_id)
    invoice.patient = patient
    return invoice, payment_get(actor=request.actor, invoice=invoice, public_id=payment_id)


def _invoice_url(invoice: Invoice) -> str:
    return reverse("office:invoice", args=[invoice.patient.public_id, invoice.public_id])


def _answer(request: StaffRequest, invoice: Invoice, refund: Refund) -> HttpResponse:
    if refund.payment.method == Payment.Method.CARD_ONLINE:
        done = _("%(amount)s was refunded to the patient’s card.")
    else:
        done = _("A refund of %(amount)s was recorded.")
    messages.success(request, done % {"amount": dollars(refund.amount_cents)})
    return redirect(_invoice_url(invoice))


def _waiting(request: StaffRequest, invoice: Invoice, refund: Refund) -> HttpResponse:
    messages.warning(
        request,
        _(
            "The card processor did not answer, so the refund of %(amount)s is waiting. It was "
            "not lost and will not be made twice: press “Send again” beside it in a few minutes."
        )
        % {"amount": dollars(refund.amount_cents)},
    )
    return redirect(_invoice_url(invoice))


@require_http_methods(["GET", "POST"])
@staff_required
def payment_refund(
    request: StaffRequest, patient_id: uuid.UUID, invoice_id: uuid.UUID, payment_id: uuid.UUID
) -> HttpResponse:
    """Refund all or part of a payment, saying why."""
    invoice, payment = _payment(request, patient_id, invoice_id, payment_id)
    left = refunds.refundable_cents(payment)
    form = RefundForm(request.POST or None, initial={"amount": f"{left / 100:.2f}"})
    if request.method == "POST" and form.is_valid():
        try:
            refund = refunds.payment_refund(
                actor=request.actor,
                payment=payment,
                amount_cents=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                key=form.cleaned_data["key"],
            )
        except ValidationError as exc:
            service_errors(form, exc)
        except RefundRefused as exc:
            form.add_error(None, exc.reason)
        except refunds.RefundWaiting as exc:
            return _waiting(request, invoice, exc.refund)
        else:
            return _answer(request, invoice, refund)
    context = {
        "patient": invoice.patient,
        "invoice": invoice,
        "payment": payment,
        "left": left,
        "online": payment.method == Payment.Method.CARD_ONLINE,
        "form": form,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "office/payment_refund.html", context, status=status)


@require_POST
@staff_required
def refund_send_again(
    request: StaffRequest,
    patient_id: uuid.UUID,
    invoice_id: uuid.UUID,
    payment_id: uuid.UUID,
    refund_id: uuid.UUID,
) -> HttpResponse:
    """Ask the processor again about a refund it did not answer; refunds once."""
    invoice, payment = _payment(request, patient_id, invoice_id, payment_id)
    refund = refund_get(actor=request.actor, payment=payment, public_id=refund_id)
    try:
        refund = refunds.refund_send_again(actor=request.actor, refund=refund)
    except RefundRefused as exc:
        messages.error(request, exc.reason)
        return redirect(_invoice_url(invoice))
    except refunds.RefundWaiting:
        return _waiting(request, invoice, refund)
    return _answer(request, invoice, refund)
