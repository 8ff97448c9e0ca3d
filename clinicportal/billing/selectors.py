"""Reads of invoices and payments: by the office, scoped to its practice."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Exists,
    F,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinicportal.accounts.models import PortalGrant
from clinicportal.billing.models import (
    DEFAULT_PORTAL_INFO,
    Adjustment,
    Invoice,
    InvoiceLine,
    InvoiceSettings,
    Payment,
    PaymentAttempt,
    Refund,
)
from clinicportal.core.access import NotFound, portal_patient
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.core.keyset import Keys, KeysetPage, keyset_page
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice


def invoice_settings_for(practice: Practice) -> InvoiceSettings:
    """The practice's invoice settings, or the defaults (unsaved) when it has chosen none."""
    found = InvoiceSettings.objects.filter(practice=practice).first()
    if found is None:
        found = InvoiceSettings(practice=practice, portal_info=str(DEFAULT_PORTAL_INFO))
    return found


def _sum(rows: QuerySet[Any], expression: Combinable | str) -> Coalesce:
    return Coalesce(
        Subquery(
            rows.order_by()
            .values("invoice_id")
            .annotate(total=Sum(expression))
            .values("total")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def with_totals(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate each invoice with charges, adjustments, payments and balance, in cents.

    One subquery each, so a page of invoices costs one query whatever their lines.
    """
    return invoices.annotate(
        charges_cents=_sum(
            InvoiceLine.objects.filter(invoice=OuterRef("pk")),
            F("quantity") * F("unit_price_cents"),
        ),
        adjustments_cents=_sum(Adjustment.objects.filter(invoice=OuterRef("pk")), "amount_cents"),
        payments_cents=_sum(
            Payment.objects.filter(invoice=OuterRef("pk")),
            F("amount_cents") - F("refunded_cents"),
        ),
    ).annotate(
        balance_cents=F("charges_cents") - F("adjustments_cents") - F("payments_cents"),
    )


@dataclass(frozen=True)
class Totals:
    """What an invoice comes to, in cents (read from ``with_totals``' annotations)."""

    charges: int
    adjustments: int
    payments: int
    balance: int


def totals(invoice: Invoice) -> Totals:
    values = vars(invoice)  # the annotations are attributes the model does not declare
    return Totals(
        charges=values["charges_cents"],
        adjustments=values["adjustments_cents"],
        payments=values["payments_cents"],
        balance=values["balance_cents"],
    )


def invoices_for_patient(*, actor: StaffActor, patient: Patient) -> QuerySet[Invoice]:
    """The patient's invoices, newest first, with their totals."""
    return with_totals(Invoice.objects.filter(practice=actor.practice, patient=patient))


def invoices_for_practice(*, actor: StaffActor) -> QuerySet[Invoice]:
    """The practice's invoices, newest first, with their patients (Billing); no totals.

    Give a page of them its totals with ``totals_added``: totals annotated on the whole list
    are worked out for every invoice before the page, as the page's count needs every row.
    """
    return Invoice.objects.filter(practice=actor.practice).select_related("patient")


def totals_added(*, actor: StaffActor, invoices: list[Invoice]) -> list[Invoice]:
    """Give each of these invoices (a page) its totals, as ``with_totals`` would, in one query."""
    found = {
        row.pk: vars(row)
        for row in with_totals(
            Invoice.objects.filter(practice=actor.practice, pk__in=[i.pk for i in invoices])
        )
    }
    names = ("charges_cents", "adjustments_cents", "payments_cents", "balance_cents")
    for invoice in invoices:
        vars(invoice).update({name: found[invoice.pk][name] for name in names})
    return invoices


def invoice_get(*, actor: StaffActor, patient: Patient, public_id: uuid.UUID) -> Invoice:
    try:
        return invoices_for_patient(actor=actor, patient=patient).get(public_id=public_id)
    except Invoice.DoesNotExist:
        raise NotFound("No such invoice.") from None


@dataclass(frozen=True)
class InvoiceDetail:
    """An invoice with what it lists: its lines, adjustments and payments."""

    invoice: Invoice
    lines: list[InvoiceLine]
    adjustments: list[Adjustment]
    payments: list[Payment]


def invoice_detail(*, actor: StaffActor, invoice: Invoice) -> InvoiceDetail:
    if invoice.practice_id != actor.practice.pk:
        raise NotFound("No such invoice.")
    return InvoiceDetail(
        invoice=invoice,
        lines=list(InvoiceLine.objects.filter(invoice=invoice)),
        adjustments=list(Adjustment.objects.filter(invoice=invoice)),
        payments=list(
            Payment.objects.filter(invoice=invoice)
            .select_related("recorded_by__staff_member")
            .prefetch_related(
                Prefetch(
                    "refunds",
                    queryset=Refund.objects.select_related("created_by__staff_member"),
                )
            )
        ),
    )


def payment_get(*, actor: StaffActor, invoice: Invoice, public_id: uuid.UUID) -> Payment:
    """A payment of the invoice (which the caller found through its patient)."""
    found = Payment.objects.filter(
        practice=actor.practice, invoice=invoice, public_id=public_id
    ).first()
    if found is None:
        raise NotFound("No such payment.")
    found.invoice = invoice
    return found


def refund_get(*, actor: StaffActor, payment: Payment, public_id: uuid.UUID) -> Refund:
    found = Refund.objects.filter(
        practice=actor.practice, payment=payment, public_id=public_id
    ).first()
    if found is None:
        raise NotFound("No such refund.")
    found.payment = payment
    return found


def payments_on(*, actor: StaffActor, day: datetime.date) -> QuerySet[Payment]:
    """The payments received on ``day`` at the practice, in the order received.

    The day runs from midnight to midnight in the practice's time zone, whatever zone is active:
    a payment at 11:30 PM in Denver is that Denver day's. A day when the clocks change is 23 or
    25 hours long.
    """
    zone = actor.practice.zone
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    return Payment.objects.filter(
        practice=actor.practice, received_at__gte=start, received_at__lt=end
    ).select_related("patient", "invoice")


def online_payments_today(*, actor: StaffActor) -> int:
    """How many payments came in through the portal today (the practice's day): Billing's head."""
    today = timezone.localdate(timezone=actor.practice.zone)
    return payments_on(actor=actor, day=today).filter(method=Payment.Method.CARD_ONLINE).count()


# Billing → Online payments: every payment attempt from PAY BILLS, newest first.

ONLINE_PER_PAGE = 25
# A processor confirms within seconds or minutes; an attempt still waiting after this long was
# most likely abandoned on the processor's page, or its confirmation never reached us.
UNCONFIRMED_AFTER = datetime.timedelta(hours=1)

_ONLINE_STATUSES = {
    "paid": [PaymentAttempt.Status.PAID],
    "waiting": [PaymentAttempt.Status.PENDING],
    "unpaid": [PaymentAttempt.Status.DECLINED, PaymentAttempt.Status.EXPIRED],
}


@dataclass(frozen=True)
class OnlineFilter:
    """Which attempts Online payments lists: every one, or only those of one outcome."""

    status: str = ""  # "" for all, or a key of _ONLINE_STATUSES

    @classmethod
    def parse(cls, params: dict[str, str]) -> OnlineFilter:
        status = params.get("status", "")
        return cls(status=status if status in _ONLINE_STATUSES else "")


def online_payments_page(
    *, actor: StaffActor, chosen: OnlineFilter, cursor: str | None
) -> KeysetPage[PaymentAttempt]:
    """One page of the practice's online payment attempts, newest first, in one query.

    Each comes with its patient, invoice and payment (once paid), ``payer_name``: the name of
    the portal account that paid, and ``paid_by_patient``: whether that is the patient's own
    account rather than an authorized user's.
    """
    own_account = PortalGrant.objects.filter(
        account=OuterRef("account"), patient=OuterRef("patient"), kind=PortalGrant.Kind.PATIENT
    )
    attempts = (
        PaymentAttempt.objects.filter(practice=actor.practice)
        .select_related("patient", "invoice", "payment")
        .annotate(payer_name=F("account__display_name"), paid_by_patient=Exists(own_account))
    )
    if chosen.status:
        attempts = attempts.filter(status__in=_ONLINE_STATUSES[chosen.status])
    return keyset_page(attempts, per_page=ONLINE_PER_PAGE, cursor=cursor, descending=True)


def attempt_unconfirmed(attempt: PaymentAttempt, now: datetime.datetime) -> bool:
    """Whether the attempt still waits for its processor long after the patient started it."""
    return (
        attempt.status == PaymentAttempt.Status.PENDING
        and now - attempt.created_at > UNCONFIRMED_AFTER
    )


# The portal's reads: the patient's finalized invoices and what was paid on them.


def portal_invoices(*, actor: PortalActor) -> QuerySet[Invoice]:
    """The patient's finalized invoices, newest first, with their totals (PAY BILLS)."""
    return with_totals(
        Invoice.objects.filter(
            practice=actor.practice,
            patient=portal_patient(actor),
            status=Invoice.Status.FINALIZED,
        )
    )


# PAY BILLS pages both of its lists, newest first, in the orders of their indexes
# (invoice_patient, payment_patient): a page reads what it shows, however long the patient's
# history; only the balance due sums every invoice.
INVOICES_PER_PAGE = 10
PAYMENTS_PER_PAGE = 20
INVOICE_ORDER: Keys = ("invoice_date", "number")
PAYMENT_ORDER: Keys = ("received_at", "id")


def _newest_first[M: Model](
    rows: QuerySet[M], *, per_page: int, cursor: str | None, keys: Keys
) -> KeysetPage[M]:
    page = keyset_page(rows, per_page=per_page, cursor=cursor, descending=True, keys=keys)
    if not page.rows and cursor:
        # Nothing past this page's mark (the list changed meanwhile): start again.
        page = keyset_page(rows, per_page=per_page, cursor=None, descending=True, keys=keys)
    return page


def portal_invoices_page(*, actor: PortalActor, cursor: str | None) -> KeysetPage[Invoice]:
    """A page of the patient's finalized invoices, newest first, with their totals (PAY BILLS).

    ``cursor`` is a position in this patient's own list: whatever it names, the page holds only
    this patient's invoices.
    """
    return _newest_first(
        portal_invoices(actor=actor),
        per_page=INVOICES_PER_PAGE,
        cursor=cursor,
        keys=INVOICE_ORDER,
    )


def portal_balance(*, actor: PortalActor) -> int:
    """What the patient owes on all their finalized invoices, in cents, in one query."""
    found = portal_invoices(actor=actor).aggregate(total=Sum("balance_cents"))
    return found["total"] or 0


def portal_invoice(*, actor: PortalActor, public_id: uuid.UUID) -> Invoice:
    try:
        return portal_invoices(actor=actor).get(public_id=public_id)
    except Invoice.DoesNotExist:
        raise NotFound("No such invoice.") from None


def portal_invoice_detail(*, actor: PortalActor, invoice: Invoice) -> InvoiceDetail:
    """The invoice as printed for the patient: its lines, adjustments and payments."""
    if invoice.patient_id != portal_patient(actor).pk:
        raise NotFound("No such invoice.")
    return InvoiceDetail(
        invoice=invoice,
        lines=list(InvoiceLine.objects.filter(invoice=invoice)),
        adjustments=list(Adjustment.objects.filter(invoice=invoice)),
        payments=list(Payment.objects.filter(invoice=invoice)),
    )


def portal_payments(*, actor: PortalActor) -> QuerySet[Payment]:
    """What the patient paid on finalized invoices, newest first (the receipts)."""
    return (
        Payment.objects.filter(
            practice=actor.practice,
            patient=portal_patient(actor),
            invoice__status=Invoice.Status.FINALIZED,
        )
        .select_related("invoice")
        .order_by("-received_at", "-id")
    )


def portal_payments_page(*, actor: PortalActor, cursor: str | None) -> KeysetPage[Payment]:
    """A page of the patient's payments, newest first, each with its invoice (the receipts)."""
    return _newest_first(
        portal_payments(actor=actor),
        per_page=PAYMENTS_PER_PAGE,
        cursor=cursor,
        keys=PAYMENT_ORDER,
    )


def portal_attempt(*, actor: PortalActor, public_id: str) -> PaymentAttempt | None:
    """The patient's payment attempt named in the address back from the processor, if any."""
    try:
        wanted = uuid.UUID(public_id)
    except ValueError:
        return None
    return PaymentAttempt.objects.filter(
        practice=actor.practice, patient=portal_patient(actor), public_id=wanted
    ).first()
