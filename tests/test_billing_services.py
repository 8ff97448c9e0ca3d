"""Invoices: drafts, finalizing, voiding, adjustments and payments, in integer cents."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from clinicportal.audit.models import AuditEvent
from clinicportal.billing import services
from clinicportal.billing.models import Invoice, Payment
from clinicportal.billing.selectors import invoice_get, invoices_for_patient, totals
from clinicportal.billing.services import LineDraft
from clinicportal.core.access import NotFound
from clinicportal.core.money import NotAnAmount, cents_from_text, dollars
from tests.conftest import actor

DAY = datetime.date(2026, 11, 20)
EXAM = LineDraft(
    description="Comprehensive eye exam",
    unit_price_cents=15_000,
    service_code="92004",
    diagnosis_codes="h40.11; H52.4",
)
DROPS = LineDraft(description="Artificial tears", unit_price_cents=1_250, quantity=2)


def make(alice, patient, lines=(EXAM, DROPS)) -> Invoice:
    return services.invoice_create(
        actor=actor(alice), patient=patient, invoice_date=DAY, provider="Dr. Chen", lines=lines
    )


def read(alice, invoice: Invoice) -> Invoice:
    return invoice_get(actor=actor(alice), patient=invoice.patient, public_id=invoice.public_id)


def test_totals_are_computed_from_the_lines_and_payments(alice, patient_a):
    invoice = make(alice, patient_a)
    assert totals(read(alice, invoice)).charges == 15_000 + 2 * 1_250
    services.invoice_finalize(actor=actor(alice), invoice=invoice)
    services.adjustment_add(
        actor=actor(alice), invoice=invoice, description="Courtesy", amount_cents=500
    )
    services.payment_record(actor=actor(alice), invoice=invoice, method="cash", amount_cents=2_000)
    shown = totals(read(alice, invoice))
    assert (shown.charges, shown.adjustments, shown.payments, shown.balance) == (
        17_500,
        500,
        2_000,
        15_000,
    )
    line = invoice.lines.get(position=1)
    assert line.diagnosis_codes == "H40.11, H52.4"


def test_numbers_count_up_within_each_practice(alice, carol, patient_a, patient_b, patient_c):
    assert [make(alice, patient_a).number, make(alice, patient_b).number] == [1, 2]
    assert make(carol, patient_c).number == 1


def test_a_finalized_invoice_cannot_be_edited(alice, patient_a):
    invoice = make(alice, patient_a)
    services.invoice_finalize(actor=actor(alice), invoice=invoice)
    with pytest.raises(services.InvoiceFixed):
        services.invoice_update(
            actor=actor(alice), invoice=invoice, invoice_date=DAY, provider="X", lines=[DROPS]
        )
    assert invoice.lines.count() == 2


def test_a_draft_needs_a_line_and_a_provider(alice, patient_a):
    with pytest.raises(ValidationError) as refused:
        make(alice, patient_a, lines=[])
    assert "lines" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.invoice_create(
            actor=actor(alice), patient=patient_a, invoice_date=DAY, provider=" ", lines=[EXAM]
        )
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("amount", [0, 17_501])
def test_a_payment_of_nothing_or_more_than_the_balance_is_refused(alice, patient_a, amount):
    invoice = make(alice, patient_a)
    services.invoice_finalize(actor=actor(alice), invoice=invoice)
    with pytest.raises(ValidationError) as refused:
        services.payment_record(
            actor=actor(alice), invoice=invoice, method="check", amount_cents=amount
        )
    assert "amount" in refused.value.message_dict
    assert not Payment.objects.exists()


def test_a_draft_takes_no_payment(alice, patient_a):
    invoice = make(alice, patient_a)
    with pytest.raises(ValidationError):
        services.payment_record(actor=actor(alice), invoice=invoice, method="cash", amount_cents=1)
    assert not Payment.objects.exists()


def test_void_needs_a_reason_and_no_payments(alice, patient_a):
    invoice = make(alice, patient_a)
    services.invoice_finalize(actor=actor(alice), invoice=invoice)
    services.payment_record(actor=actor(alice), invoice=invoice, method="cash", amount_cents=100)
    with pytest.raises(ValidationError):
        services.invoice_void(actor=actor(alice), invoice=invoice, reason="Billed twice")
    other = make(alice, patient_a)
    with pytest.raises(ValidationError):
        services.invoice_void(actor=actor(alice), invoice=other, reason="  ")
    services.invoice_void(actor=actor(alice), invoice=other, reason="Billed twice")
    assert other.status == "void" and other.void_reason == "Billed twice"
    assert Invoice.objects.get(pk=invoice.pk).status == "finalized"


def test_another_practice_reaches_no_invoice(alice, carol, patient_a):
    invoice = make(alice, patient_a)
    with pytest.raises(NotFound):
        services.invoice_finalize(actor=actor(carol), invoice=invoice)
    with pytest.raises(NotFound):
        invoice_get(actor=actor(carol), patient=patient_a, public_id=invoice.public_id)
    assert not invoices_for_patient(actor=actor(carol), patient=patient_a).exists()
    assert Invoice.objects.get().is_draft


def test_every_change_is_audited(alice, patient_a):
    invoice = make(alice, patient_a)
    services.invoice_finalize(actor=actor(alice), invoice=invoice)
    services.payment_record(actor=actor(alice), invoice=invoice, method="cash", amount_cents=100)
    actions = set(AuditEvent.objects.filter(patient=patient_a).values_list("action", flat=True))
    assert {"invoice.created", "invoice.finalized", "payment.recorded"} <= actions


@pytest.mark.parametrize(
    ("typed", "cents"), [("12", 1200), ("12.5", 1250), ("$1,234.56", 123456), ("0.01", 1)]
)
def test_amounts_are_read_as_cents(typed, cents):
    assert cents_from_text(typed) == cents


@pytest.mark.parametrize("typed", ["-5", "1.234", "abc", "", "NaN", "Infinity", "10000000.01"])
def test_what_is_not_an_amount_is_refused(typed):
    with pytest.raises(NotAnAmount):
        cents_from_text(typed)


def test_cents_show_as_dollars():
    assert dollars(123456) == "$1,234.56" and dollars(-500) == "-$5.00" and dollars(0) == "$0.00"
