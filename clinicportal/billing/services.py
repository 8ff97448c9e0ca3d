"""Write invoices: create and edit drafts, finalize, void, adjust, and record payments.

A draft may be edited; a finalized invoice is fixed, and only adjustments and payments change
what is owed. Every change is audited in its own transaction. Amounts are integer cents.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.billing.models import Adjustment, Invoice, InvoiceLine, InvoiceSettings, Payment
from clinicportal.billing.selectors import invoice_settings_for, totals, with_totals
from clinicportal.core.access import require_admin, require_reachable
from clinicportal.core.context import PortalActor, StaffActor
from clinicportal.core.money import MAX_CENTS, dollars
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice


@dataclass(frozen=True)
class LineDraft:
    """One line as typed: the service checks it."""

    description: str
    unit_price_cents: int
    quantity: int = 1
    service_code: str = ""
    diagnosis_codes: str = ""


class InvoiceFixed(ValidationError):
    """The invoice is finalized or void, so it cannot be edited."""


def _clean_lines(lines: Sequence[LineDraft]) -> list[LineDraft]:
    kept = [line for line in lines if line.description.strip() or line.unit_price_cents]
    if not kept:
        raise ValidationError({"lines": _("Please add at least one line.")}, code="required")
    for line in kept:
        if not line.description.strip():
            raise ValidationError({"lines": _("Every line needs a description.")})
        if line.quantity < 1:
            raise ValidationError({"lines": _("A quantity must be 1 or more.")})
        if line.quantity * line.unit_price_cents > MAX_CENTS:
            raise ValidationError(
                {"lines": _("A line cannot be more than %(max)s.") % {"max": dollars(MAX_CENTS)}}
            )
    return kept


def _write_lines(invoice: Invoice, lines: Sequence[LineDraft]) -> None:
    invoice.lines.all().delete()
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            practice=invoice.practice,
            invoice=invoice,
            position=number,
            service_code=line.service_code.strip(),
            description=" ".join(line.description.split()),
            diagnosis_codes=", ".join(
                code.strip().upper()
                for code in line.diagnosis_codes.replace(";", ",").split(",")
                if code.strip()
            ),
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
        )
        for number, line in enumerate(lines, start=1)
    )


def _next_number(practice: Practice) -> int:
    """The practice's next invoice number; call inside the transaction that uses it."""
    Practice.objects.select_for_update().filter(pk=practice.pk).first()  # one at a time
    highest = Invoice.objects.filter(practice=practice).aggregate(n=Max("number"))["n"]
    return (highest or 0) + 1


def invoice_create(
    *,
    actor: StaffActor,
    patient: Patient,
    invoice_date: datetime.date,
    provider: str,
    lines: Sequence[LineDraft],
) -> Invoice:
    """Make a draft invoice for the patient with its lines."""
    require_reachable(actor, patient)
    kept = _clean_lines(lines)
    provider = " ".join(provider.split())
    if not provider:
        raise ValidationError({"provider": _("Please name the provider.")})
    with transaction.atomic():
        invoice = Invoice.objects.create(
            practice=actor.practice,
            patient=patient,
            number=_next_number(actor.practice),
            invoice_date=invoice_date,
            provider=provider,
            created_by=actor.user,
        )
        _write_lines(invoice, kept)
        audit_record(
            actor=actor, action=AuditEvent.Action.INVOICE_CREATED, target=invoice, patient=patient
        )
    return invoice


def _fixed(invoice: Invoice) -> InvoiceFixed:
    return InvoiceFixed(
        _("Invoice #%(number)s is %(status)s and can no longer be changed.")
        % {"number": invoice.number, "status": invoice.get_status_display().lower()},
        code="fixed",
    )


def invoice_update(
    *,
    actor: StaffActor,
    invoice: Invoice,
    invoice_date: datetime.date,
    provider: str,
    lines: Sequence[LineDraft],
) -> Invoice:
    """Change a draft: its date, provider and lines (all replaced)."""
    require_reachable(actor, invoice)
    kept = _clean_lines(lines)
    provider = " ".join(provider.split())
    if not provider:
        raise ValidationError({"provider": _("Please name the provider.")})
    with transaction.atomic():
        changed = Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.DRAFT).update(
            invoice_date=invoice_date, provider=provider
        )
        if not changed:
            invoice.refresh_from_db()
            raise _fixed(invoice)
        invoice.invoice_date, invoice.provider = invoice_date, provider
        _write_lines(invoice, kept)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.INVOICE_UPDATED,
            target=invoice,
            patient=invoice.patient,
        )
    return invoice


def invoice_finalize(*, actor: StaffActor, invoice: Invoice) -> None:
    """Fix a draft: from now on only adjustments and payments change what is owed."""
    require_reachable(actor, invoice)
    with transaction.atomic():
        changed = Invoice.objects.filter(
            pk=invoice.pk, status=Invoice.Status.DRAFT, lines__isnull=False
        ).update(status=Invoice.Status.FINALIZED, finalized_at=timezone.now())
        if not changed:
            invoice.refresh_from_db()
            if invoice.is_draft:
                raise ValidationError(_("Please add at least one line before finalizing."))
            raise _fixed(invoice)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.INVOICE_FINALIZED,
            target=invoice,
            patient=invoice.patient,
        )
    invoice.refresh_from_db()


def invoice_void(*, actor: StaffActor, invoice: Invoice, reason: str) -> None:
    """Void an invoice that has no payments left on it, saying why."""
    require_reachable(actor, invoice)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": _("Please say why the invoice is void.")})
    with transaction.atomic():
        locked = with_totals(Invoice.objects.select_for_update(of=("self",))).get(pk=invoice.pk)
        if locked.status == Invoice.Status.VOID:
            raise _fixed(locked)
        if totals(locked).payments:
            raise ValidationError(
                _("Invoice #%(number)s has payments of %(paid)s; refund them before voiding it.")
                % {"number": locked.number, "paid": dollars(totals(locked).payments)}
            )
        Invoice.objects.filter(pk=invoice.pk).update(
            status=Invoice.Status.VOID, void_reason=reason[:300], voided_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.INVOICE_VOIDED,
            target=invoice,
            patient=invoice.patient,
        )
    invoice.refresh_from_db()


def _open_for_money(invoice_id: int, amount_cents: int, field: str) -> Invoice:
    """Lock a finalized invoice; check ``amount_cents`` is above 0 and at most its balance."""
    locked = with_totals(Invoice.objects.select_for_update(of=("self",))).get(pk=invoice_id)
    if not locked.is_finalized:
        raise ValidationError(
            _("Invoice #%(number)s is not finalized: finalize it first.")
            % {"number": locked.number}
            if locked.is_draft
            else _("Invoice #%(number)s is void.") % {"number": locked.number}
        )
    if amount_cents <= 0:
        raise ValidationError({field: _("Please enter an amount greater than zero.")})
    if amount_cents > totals(locked).balance:
        raise ValidationError(
            {
                field: _("That is more than the balance of %(balance)s.")
                % {"balance": dollars(totals(locked).balance)}
            }
        )
    return locked


def adjustment_add(
    *, actor: StaffActor, invoice: Invoice, description: str, amount_cents: int
) -> Adjustment:
    """Take ``amount_cents`` off what a finalized invoice's patient owes, saying why."""
    require_reachable(actor, invoice)
    description = " ".join(description.split())
    if not description:
        raise ValidationError({"description": _("Please say what the adjustment is for.")})
    with transaction.atomic():
        _open_for_money(invoice.pk, amount_cents, "amount")
        adjustment = Adjustment.objects.create(
            practice=actor.practice,
            invoice=invoice,
            description=description,
            amount_cents=amount_cents,
            created_by=actor.user,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.INVOICE_ADJUSTED,
            target=invoice,
            patient=invoice.patient,
        )
    return adjustment


def payment_record(
    *,
    actor: StaffActor,
    invoice: Invoice,
    method: str,
    amount_cents: int,
    reference: str = "",
    received_at: datetime.datetime | None = None,
) -> Payment:
    """Record money received in the office (cash, check, card) for a finalized invoice."""
    require_reachable(actor, invoice)
    if method not in (
        Payment.Method.CASH,
        Payment.Method.CHECK,
        Payment.Method.CARD_IN_OFFICE,
    ):
        raise ValidationError({"method": _("Please choose how the payment was made.")})
    with transaction.atomic():
        _open_for_money(invoice.pk, amount_cents, "amount")
        payment = Payment.objects.create(
            practice=actor.practice,
            patient=invoice.patient,
            invoice=invoice,
            method=method,
            amount_cents=amount_cents,
            reference=" ".join(reference.split())[:100],
            received_at=received_at or timezone.now(),
            recorded_by=actor.user,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PAYMENT_RECORDED,
            target=invoice,
            patient=invoice.patient,
        )
    return payment


def _opened(actor: StaffActor | PortalActor, invoice: Invoice, action: AuditEvent.Action) -> None:
    require_reachable(actor, invoice)
    with transaction.atomic():
        audit_record(actor=actor, action=action, target=invoice, patient=invoice.patient)


def invoice_view(*, actor: StaffActor, invoice: Invoice) -> None:
    """Record a staff member opening an invoice (it names the patient's care)."""
    _opened(actor, invoice, AuditEvent.Action.INVOICE_VIEWED)


def invoice_print_record(*, actor: StaffActor, invoice: Invoice) -> None:
    """Record a staff member printing an invoice (downloading its PDF)."""
    _opened(actor, invoice, AuditEvent.Action.INVOICE_PRINTED)


def invoice_patient_download(*, actor: PortalActor, invoice: Invoice) -> None:
    """Record the patient's side downloading an invoice's PDF from PAY BILLS (in LOGS)."""
    _opened(actor, invoice, AuditEvent.Action.INVOICE_VIEWED_BY_PATIENT)


def invoice_settings_save(
    *, actor: StaffActor, portal_info: str, include_portal_info: bool
) -> InvoiceSettings:
    """Save the practice's portal block for invoices and whether it is pre-checked (admins)."""
    require_admin(actor)
    text = portal_info.replace("\r\n", "\n").strip()
    if len(text) > 1000:
        raise ValidationError({"portal_info": _("Please keep it under 1,000 characters.")})
    config = invoice_settings_for(actor.practice)
    config.portal_info = text
    config.include_portal_info = include_portal_info
    with transaction.atomic():
        config.save()
        audit_record(actor=actor, action=AuditEvent.Action.INVOICE_SETTINGS_CHANGED, target=config)
    return config
