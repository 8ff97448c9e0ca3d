"""Refunds the processor reports: made in its own dashboard, or the echo of one we asked for.

A practice can refund a card payment in the processor's dashboard (Stripe's) instead of on the
office's screen; the processor then tells the webhook, and ``processor_refund_record`` records
it as a refund made in the processor, exactly once:

- matched to our Payment by the processor's payment id, as the confirmation recorded it (and
  only a payment that processor took); a refund of anything else is ignored;
- keyed on the processor's refund id, under a unique constraint: the same notice again, or
  twice at once, records one refund;
- a refund the office asked for comes back too. It is already recorded: it names our refund in
  its metadata (``RefundNotice.reference``, sent before the processor answered, so even an echo
  that overtakes the answer is known) or, once answered, by its refund id. When the office's
  refund is still waiting (the processor's answer was lost), the echo says it was made: it is
  done now, exactly as when the processor answers (``refund_done_mark``: once, however often
  the echo comes or whether "Send again" answers at the same moment);
- under the payment's row lock, as ``payment_refund``: a refund of more than is left of the
  payment is refused and nothing is written (our records and the processor's disagree; the log
  says so, for the operator to look into);
- a refund on its way back to the card can fail later (a closed card account): the processor
  reports it failed, and a refund we hold as done or waiting, ours or made in the processor, is
  marked refused with the processor's reason and its amount released, once (a conditional
  update on its status), audited as refused by the processor, and put on the office's Tasks
  list, once, in the same transaction: the practice must give the money back another way. The
  patient is not emailed: the office decides how the money goes back, and a refund it makes
  sends its own receipt;
- the processor does not promise the order of its events: a failure can arrive before the
  refund it reports was. It is recorded then as a refund made in the processor and refused,
  its amount never counted, so that the report of its making, when it comes, finds it known
  and leaves it refused.

It is done at once: audited as made in the processor, by no staff member, and the patient gets
the same receipt as for a refund made in the office, queued in the same transaction.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.billing.gateways import RefundNotice, RefundState
from clinicportal.billing.models import Payment, PaymentSettings, Refund
from clinicportal.billing.refunds import refund_done_mark, refund_receipt_queue, refundable_cents
from clinicportal.core.context import StaffActor, VisitorActor
from clinicportal.messaging.services.tasks import refund_task_record
from clinicportal.practices.models import Practice

logger = logging.getLogger(__name__)

RECORDED = "refund recorded"
REFUSED = "refund refused"
FAILED = "refund failed"
IGNORED = "ignored"


def processor_refund_record(*, practice: Practice, processor: str, notice: RefundNotice) -> str:
    """Record the refund ``processor`` reports; return what became of it (the webhook's answer).

    "refund recorded" (also when it was recorded before, is recorded twice at once, or is one
    the office asked for, done now if it was waiting), "refund refused" (more than is left of
    the payment, or another amount than the office's refund it names: nothing written),
    "refund failed" (it gave nothing back: refused now, or before; recorded refused if it was
    never recorded) or "ignored" (not made yet, or not a refund of a payment of ours).
    """
    if notice.state == RefundState.WAITING:
        return IGNORED
    try:
        with transaction.atomic():
            return _record(practice, processor, notice)
    except IntegrityError:  # the same refund, recorded meanwhile: the constraint kept it once
        return FAILED if notice.state == RefundState.FAILED else RECORDED


def _record(practice: Practice, processor: str, notice: RefundNotice) -> str:
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("invoice", "patient", "practice")
        .filter(
            practice=practice,
            method=Payment.Method.CARD_ONLINE,
            processor_payment_id=notice.processor_payment_id,
            attempt__processor=processor,
        )
        .first()
    )
    if payment is None:
        return IGNORED
    known = _known(payment, notice)
    if notice.state == RefundState.FAILED:
        if known is None:
            return _failed_first(practice, processor, payment, notice)
        return _failed(practice, processor, payment, known, notice)
    if known is not None:
        return _echo(known, notice)
    if notice.amount_cents > refundable_cents(payment):
        logger.warning(
            "The processor reports a refund of more than is left of payment %s; not recorded",
            payment.public_id,
        )
        return REFUSED
    refund = _made_in_processor(
        practice, payment, notice, status=Refund.Status.DONE, done_at=timezone.now()
    )
    Payment.objects.filter(pk=payment.pk).update(
        refunded_cents=F("refunded_cents") + notice.amount_cents
    )
    _audit(practice, processor, payment, AuditEvent.Action.PAYMENT_REFUNDED_IN_PROCESSOR)
    refund_receipt_queue(payment, refund)
    return RECORDED


def _known(payment: Payment, notice: RefundNotice) -> Refund | None:
    """Recorded before: by the processor's refund id, or the office's refund it names."""
    same = Q(processor_refund_id=notice.processor_refund_id)
    with contextlib.suppress(ValueError):  # no reference of ours: made in the processor
        same |= Q(payment=payment, public_id=uuid.UUID(notice.reference))
    return (
        Refund.objects.filter(same, practice=payment.practice_id)
        .select_related("created_by__staff_member")
        .first()
    )


def _echo(refund: Refund, notice: RefundNotice) -> str:
    """A refund recorded before; one of the office's still waiting is done now."""
    if refund.status != Refund.Status.PENDING or refund.created_by is None:
        return RECORDED
    if refund.amount_cents != notice.amount_cents:
        logger.warning(
            "The processor reports refund %s with another amount; left waiting", refund.public_id
        )
        return REFUSED
    # Audited as the office's refund, by the staff member who asked for it, as when the
    # processor answers them.
    asked_by = StaffActor(user=refund.created_by, staff=refund.created_by.staff_member)
    refund_done_mark(actor=asked_by, refund=refund, processor_refund_id=notice.processor_refund_id)
    return RECORDED


def _failed(
    practice: Practice, processor: str, payment: Payment, refund: Refund, notice: RefundNotice
) -> str:
    """The refund gave nothing back: refused, its amount released; once."""
    changed = Refund.objects.filter(
        pk=refund.pk, status__in=(Refund.Status.PENDING, Refund.Status.DONE)
    ).update(status=Refund.Status.REFUSED, refused_because=notice.failed_because[:300])
    if changed:
        Payment.objects.filter(pk=payment.pk).update(
            refunded_cents=Greatest(F("refunded_cents") - refund.amount_cents, 0)
        )
        audit_record(
            actor=VisitorActor(
                practice=practice, name=str(PaymentSettings.Processor(processor).label)
            ),
            action=AuditEvent.Action.REFUND_REFUSED,
            target=payment.invoice,
            patient=payment.patient,
        )
        refund_task_record(refund=refund)
    return FAILED


def _failed_first(
    practice: Practice, processor: str, payment: Payment, notice: RefundNotice
) -> str:
    """A failure that overtook the refund's making: recorded refused, its amount never counted.

    Its making, reported later, then finds it known (``_echo``) and leaves it refused.
    """
    refund = _made_in_processor(
        practice,
        payment,
        notice,
        status=Refund.Status.REFUSED,
        refused_because=notice.failed_because[:300],
    )
    _audit(practice, processor, payment, AuditEvent.Action.REFUND_REFUSED)
    refund_task_record(refund=refund)
    return FAILED


def _made_in_processor(
    practice: Practice, payment: Payment, notice: RefundNotice, **state: Any
) -> Refund:
    """The row of a refund made in the processor's dashboard, first heard of in ``notice``."""
    return Refund.objects.create(
        practice=practice,
        patient=payment.patient,
        payment=payment,
        amount_cents=notice.amount_cents,
        processor_refund_id=notice.processor_refund_id,
        made_in_processor=True,
        **state,
    )


def _audit(practice: Practice, processor: str, payment: Payment, action: AuditEvent.Action) -> None:
    """Record what the processor did to the payment's invoice, the processor named as actor."""
    audit_record(
        actor=VisitorActor(practice=practice, name=str(PaymentSettings.Processor(processor).label)),
        action=action,
        target=payment.invoice,
        patient=payment.patient,
    )
