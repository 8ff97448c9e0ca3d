"""Online payments: the practice's processor, a patient's checkout, and its confirmation.

The patient pays on the processor's own page; we never see a card. ``payment_start`` records a
PaymentAttempt (one per form key, so a double click starts one checkout) and asks the gateway
for the page. The processor then posts a signed confirmation to the webhook, and
``payment_confirm`` records the Payment exactly once per processor payment id, however often
or however concurrently it is confirmed. A confirmed amount is recorded even when it is more
than the balance by then (the card was charged; the office refunds the difference).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.billing.gateways import (
    BadSignature,
    CheckoutRequest,
    Confirmation,
    GatewayUnavailable,
    RefundNotice,
)
from clinicportal.billing.models import Invoice, Payment, PaymentAttempt, PaymentSettings
from clinicportal.billing.processor_refunds import processor_refund_record
from clinicportal.billing.processors import gateway_for, payment_settings_for
from clinicportal.billing.selectors import totals, with_totals
from clinicportal.core.access import NotFound, require_reachable
from clinicportal.core.context import PortalActor
from clinicportal.core.http import absolute_url
from clinicportal.core.money import dollars
from clinicportal.notifications.services import email_queue
from clinicportal.practices.models import Practice

CURRENCY = "usd"


class UnknownPayment(Exception):
    """A confirmation whose reference names no payment attempt of the practice."""


def _bills_url(practice: Practice, **query: str) -> str:
    url = absolute_url(reverse("portal:bills", args=[practice.slug]))
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def payment_start(*, actor: PortalActor, invoice: Invoice, amount_cents: int, key: str) -> str:
    """Start paying ``amount_cents`` of the patient's invoice; return the processor's page.

    The same ``key`` (the form's) finds the same attempt and the same checkout.
    """
    require_reachable(actor, invoice)
    practice = actor.practice
    if not practice.pay_bills_enabled or not invoice.is_finalized:
        raise NotFound("No such invoice.")
    config = payment_settings_for(practice)
    gateway = gateway_for(config)
    if gateway is None:
        raise ValidationError(
            _("Online payments are not available right now. Please call the office.")
        )
    attempt = PaymentAttempt.objects.filter(idempotency_key=key).first()
    if attempt is None:
        attempt = _attempt_create(actor, invoice, amount_cents, key, config.processor)
    elif attempt.account_id != actor.account.pk or attempt.invoice_id != invoice.pk:
        raise ValidationError(_("This form was already used. Please try again."))
    if attempt.redirect_url:
        return attempt.redirect_url
    request = CheckoutRequest(
        amount_cents=attempt.amount_cents,
        currency=CURRENCY,
        description=_("Invoice #%(number)s, %(practice)s")
        % {"number": invoice.number, "practice": practice.name},
        reference=str(attempt.public_id),
        success_url=_bills_url(practice, paid=str(attempt.public_id)),
        cancel_url=_bills_url(practice),
        idempotency_key=attempt.idempotency_key,
    )
    try:
        checkout = gateway.checkout_start(request)
    except GatewayUnavailable:
        raise ValidationError(
            _("The payment processor could not be reached. Please try again in a few minutes.")
        ) from None
    PaymentAttempt.objects.filter(pk=attempt.pk).update(
        session_id=checkout.session_id, redirect_url=checkout.redirect_url
    )
    return checkout.redirect_url


def _attempt_create(
    actor: PortalActor, invoice: Invoice, amount_cents: int, key: str, processor: str
) -> PaymentAttempt:
    if amount_cents <= 0:
        raise ValidationError({"amount": _("Please enter an amount greater than zero.")})
    if not key or len(key) > 64:
        raise ValidationError(_("This form has expired. Please try again."))
    try:
        with transaction.atomic():
            locked = with_totals(Invoice.objects.select_for_update(of=("self",))).get(pk=invoice.pk)
            balance = totals(locked).balance
            if amount_cents > balance:
                raise ValidationError(
                    {
                        "amount": _("That is more than the balance of %(balance)s.")
                        % {"balance": dollars(max(balance, 0))}
                    }
                )
            attempt = PaymentAttempt.objects.create(
                practice=actor.practice,
                patient=invoice.patient,
                invoice=invoice,
                account=actor.account,
                amount_cents=amount_cents,
                idempotency_key=key,
                processor=processor,
            )
            audit_record(
                actor=actor,
                action=AuditEvent.Action.PAYMENT_STARTED,
                target=invoice,
                patient=invoice.patient,
            )
            return attempt
    except IntegrityError:
        # The same key, posted twice at once: the other request made the attempt.
        return PaymentAttempt.objects.get(idempotency_key=key, account=actor.account)


def payment_confirm(
    *, practice: Practice, processor: str, payload: bytes, headers: Mapping[str, str]
) -> str:
    """Record what ``processor`` confirms; return what became of it (the webhook's answer).

    "recorded" (also for a confirmation that arrives again, or twice at once: one payment),
    "declined", "expired", or "ignored" for a genuine notice that ends no checkout; for a
    refund the processor reports, what ``processor_refund_record`` answers. Raises
    BadSignature (nothing recorded) and UnknownPayment, also for a payment another processor
    started.
    """
    config = PaymentSettings.objects.filter(practice=practice).select_related("practice").first()
    # Read by the processor the webhook names, not the one chosen now: a payment started before
    # the practice switched processors (or switched them off) still confirms.
    gateway = gateway_for(config, processor) if config else None
    if gateway is None:
        raise BadSignature
    confirmation = gateway.confirmation_read(payload, headers)
    if confirmation is None:
        return "ignored"
    if isinstance(confirmation, RefundNotice):
        return processor_refund_record(practice=practice, processor=processor, notice=confirmation)
    try:
        reference = uuid.UUID(confirmation.reference)
    except ValueError:
        raise UnknownPayment from None
    with transaction.atomic():
        attempt = (
            PaymentAttempt.objects.select_for_update()
            .filter(practice=practice, processor=processor, public_id=reference)
            .first()
        )
        if attempt is None:
            raise UnknownPayment
        if attempt.status == PaymentAttempt.Status.PAID:
            return "recorded"
        if not confirmation.paid:
            attempt.status = PaymentAttempt.Status(confirmation.outcome)
            attempt.save(update_fields=["status"])
            return str(confirmation.outcome)
        _record(attempt, confirmation)
        return "recorded"


def _record(attempt: PaymentAttempt, confirmation: Confirmation) -> Payment:
    """Record the payment, mark the attempt paid, queue the receipt, audit; inside the lock."""
    existing = Payment.objects.filter(
        practice=attempt.practice, processor_payment_id=confirmation.processor_payment_id
    ).first()
    if existing is not None:
        payment = existing
    else:
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    practice=attempt.practice,
                    patient=attempt.patient,
                    invoice=attempt.invoice,
                    method=Payment.Method.CARD_ONLINE,
                    amount_cents=confirmation.amount_cents,
                    reference=confirmation.processor_payment_id,
                    received_at=timezone.now(),
                    processor_payment_id=confirmation.processor_payment_id,
                )
        except IntegrityError:
            return Payment.objects.get(
                practice=attempt.practice, processor_payment_id=confirmation.processor_payment_id
            )
    attempt.status = PaymentAttempt.Status.PAID
    attempt.payment = payment
    attempt.save(update_fields=["status", "payment"])
    if existing is not None:
        return payment
    actor = PortalActor(account=attempt.account, patient=attempt.patient)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.PAYMENT_RECORDED,
        target=attempt.invoice,
        patient=attempt.patient,
    )
    # To whoever paid; an account with no address of its own is the patient's.
    to = attempt.account.email or attempt.patient.email
    if to:
        email_queue(
            practice=attempt.practice,
            to=to,
            template="payment_receipt",
            context={
                "amount": dollars(payment.amount_cents),
                "date": formats.date_format(timezone.localdate(payment.received_at)),
                "number": attempt.invoice.number,
                "portal_url": absolute_url(reverse("portal:bills", args=[attempt.practice.slug])),
            },
        )
    return payment
