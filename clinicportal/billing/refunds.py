"""Refunds: money given back of a payment, through the processor when it was paid online.

A refund is written first, in one transaction under the payment's row lock, with its amount
added to the payment's ``refunded_cents``: so two refunds at once can never give back more than
was paid. A payment taken in the office is refunded in the office, and the refund is done at
once. A card paid online is then refunded through the processor with the refund's key as the
idempotency key:

- the processor refunds: the refund is done, the patient gets an email;
- the processor refuses: the refund is marked refused and its amount is released;
- no answer (a time-out, the processor down, the process killed): the refund stays waiting, its
  amount still held. "Send again" asks once more with the same key, so the processor refunds
  once however often it is asked.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.billing.gateways import GatewayUnavailable, RefundRefused, RefundRequest
from clinicportal.billing.models import Payment, PaymentSettings, Refund
from clinicportal.billing.processors import gateway_for
from clinicportal.core.access import require_reachable
from clinicportal.core.context import StaffActor
from clinicportal.core.http import absolute_url
from clinicportal.core.money import dollars
from clinicportal.notifications.services import email_queue


class RefundWaiting(Exception):
    """The processor did not answer: the refund is kept, waiting, to be sent again."""

    def __init__(self, refund: Refund) -> None:
        super().__init__("refund waiting for the processor")
        self.refund = refund


def refundable_cents(payment: Payment) -> int:
    return payment.amount_cents - payment.refunded_cents


def payment_refund(
    *, actor: StaffActor, payment: Payment, amount_cents: int, reason: str, key: str
) -> Refund:
    """Refund ``amount_cents`` of the payment; the same ``key`` refunds once.

    Raises ValidationError (nothing written), RefundRefused (written as refused) and
    RefundWaiting (written, waiting for the processor).
    """
    require_reachable(actor, payment)
    reason = " ".join(reason.split())[:300]
    if not reason:
        raise ValidationError({"reason": _("Please say why the payment is refunded.")})
    if amount_cents <= 0:
        raise ValidationError({"amount": _("Please enter an amount greater than zero.")})
    if not key or len(key) > 64:
        raise ValidationError(_("This form has expired. Please try again."))
    try:
        refund = _reserve(actor, payment, amount_cents, reason, key)
    except IntegrityError:  # the same form, posted twice at once: the other post wrote it
        refund = Refund.objects.get(practice=actor.practice, idempotency_key=key)
    if refund.status == Refund.Status.PENDING:
        return _send(actor, refund)
    if refund.status == Refund.Status.REFUSED:
        raise RefundRefused(refund.refused_because)
    return refund


def refund_send_again(*, actor: StaffActor, refund: Refund) -> Refund:
    """Ask the processor again about a refund it did not answer (same idempotency key)."""
    require_reachable(actor, refund)
    if refund.status != Refund.Status.PENDING:
        return refund
    return _send(actor, refund)


def _reserve(
    actor: StaffActor, payment: Payment, amount_cents: int, reason: str, key: str
) -> Refund:
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        earlier = Refund.objects.filter(practice=actor.practice, idempotency_key=key).first()
        if earlier is not None:
            return earlier
        left = refundable_cents(locked)
        if amount_cents > left:
            raise ValidationError(
                {
                    "amount": _("That is more than the %(left)s left to refund of this payment.")
                    % {"left": dollars(left)}
                }
            )
        online = locked.method == Payment.Method.CARD_ONLINE
        refund = Refund.objects.create(
            practice=actor.practice,
            patient=locked.patient,
            payment=locked,
            amount_cents=amount_cents,
            reason=reason,
            idempotency_key=key,
            status=Refund.Status.PENDING if online else Refund.Status.DONE,
            done_at=None if online else timezone.now(),
            created_by=actor.user,
        )
        Payment.objects.filter(pk=locked.pk).update(
            refunded_cents=F("refunded_cents") + amount_cents
        )
        if not online:
            _done_record(actor, refund)
    return refund


def _send(actor: StaffActor, refund: Refund) -> Refund:
    """Ask the processor that took the payment; record its answer."""
    payment = Payment.objects.select_related("attempt").get(pk=refund.payment_id)
    config = PaymentSettings.objects.filter(practice=refund.practice_id).first()
    gateway = gateway_for(config, payment.attempt.processor) if config else None
    if gateway is None or not payment.processor_payment_id:
        raise RefundWaiting(refund)  # the processor is not configured here now
    request = RefundRequest(
        processor_payment_id=payment.processor_payment_id,
        amount_cents=refund.amount_cents,
        reference=str(refund.public_id),
        idempotency_key=refund.idempotency_key,
    )
    try:
        processor_refund_id = gateway.refund(request)
    except GatewayUnavailable:
        raise RefundWaiting(refund) from None
    except RefundRefused as exc:
        _refused_record(actor, refund, exc.reason)
        raise
    refund_done_mark(actor=actor, refund=refund, processor_refund_id=processor_refund_id)
    return refund


def refund_done_mark(*, actor: StaffActor, refund: Refund, processor_refund_id: str) -> bool:
    """Mark a refund waiting for the processor done, once: audit it and tell the patient.

    Return whether this call did it; a refund done (or refused) meanwhile is left as it is and
    ``refund`` is read again.
    """
    with transaction.atomic():
        changed = Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
            status=Refund.Status.DONE,
            processor_refund_id=processor_refund_id[:100],
            done_at=timezone.now(),
        )
        refund.refresh_from_db()
        if changed:
            _done_record(actor, refund)
    return bool(changed)


def _refused_record(actor: StaffActor, refund: Refund, reason: str) -> None:
    with transaction.atomic():
        changed = Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
            status=Refund.Status.REFUSED, refused_because=reason[:300]
        )
        if changed:
            Payment.objects.filter(pk=refund.payment_id).update(
                refunded_cents=F("refunded_cents") - refund.amount_cents
            )
            audit_record(
                actor=actor,
                action=AuditEvent.Action.REFUND_REFUSED,
                target=refund.payment.invoice,
                patient=refund.patient,
            )
    refund.refresh_from_db()


def _done_record(actor: StaffActor, refund: Refund) -> None:
    """Audit the refund and tell the patient; inside the transaction that made it done."""
    payment = Payment.objects.select_related("invoice", "patient", "practice").get(
        pk=refund.payment_id
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.PAYMENT_REFUNDED,
        target=payment.invoice,
        patient=payment.patient,
    )
    if payment.method != Payment.Method.CARD_ONLINE:
        return  # handed back in the office: the patient was there
    refund_receipt_queue(payment, refund)


def refund_receipt_queue(payment: Payment, refund: Refund) -> None:
    """Email the patient that a card refund is done; inside the transaction that made it done.

    To whoever paid online; an account with no address of its own is the patient's.
    """
    attempt_account = getattr(payment, "attempt", None)
    to = (attempt_account.account.email if attempt_account else "") or payment.patient.email
    if to:
        email_queue(
            practice=payment.practice,
            to=to,
            template="refund_receipt",
            context={
                "amount": dollars(refund.amount_cents),
                "date": formats.date_format(timezone.localdate(refund.done_at)),
                "number": payment.invoice.number,
                "portal_url": absolute_url(reverse("portal:bills", args=[payment.practice.slug])),
            },
        )
