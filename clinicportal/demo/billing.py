"""The demo practice's invoices: a paid one, one part paid, one with a balance, and a draft.

Jordan (the demo patient) and Avery (Morgan's child) get invoices in each state, written
through the billing services as the office would, so Billing and the day's payments have
something to show. Made once: nothing happens if the practice has invoices. PAY BILLS is on,
with the TEST processor, so the portal's payments can be tried without money.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from clinicportal.billing.models import Invoice, PaymentSettings
from clinicportal.billing.processors import payment_settings_save
from clinicportal.billing.services import (
    LineDraft,
    adjustment_add,
    invoice_create,
    invoice_finalize,
    payment_record,
)
from clinicportal.core.context import StaffActor
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice

EXAM = LineDraft(
    service_code="92014",
    description="Comprehensive eye exam, established patient",
    diagnosis_codes="H52.13, H40.11",
    unit_price_cents=16_500,
)
REFRACTION = LineDraft(
    service_code="92015", description="Refraction", diagnosis_codes="H52.13", unit_price_cents=4_500
)
FIELDS = LineDraft(
    service_code="92083",
    description="Visual field examination",
    diagnosis_codes="H40.11",
    unit_price_cents=9_800,
)
FRAMES = LineDraft(service_code="V2020", description="Frames", unit_price_cents=12_900)
LENSES = LineDraft(
    service_code="V2103", description="Single vision lenses", quantity=2, unit_price_cents=6_400
)


def _days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def demo_invoices(*, admin: StaffActor, staff: StaffActor) -> None:
    """Give the demo patients their invoices, once."""
    practice = admin.practice
    if Invoice.objects.filter(practice=practice).exists():
        return
    jordan = Patient.objects.get(practice=practice, first_name="Jordan", last_name="Rivera")
    avery = Patient.objects.get(practice=practice, first_name="Avery", last_name="Rivera")
    with transaction.atomic():
        paid = invoice_create(
            actor=staff,
            patient=jordan,
            invoice_date=_days_ago(60),
            provider="Dr. Priya Raman",
            lines=[EXAM, REFRACTION],
        )
        invoice_finalize(actor=staff, invoice=paid)
        payment_record(actor=staff, invoice=paid, method="card_office", amount_cents=21_000)
        part = invoice_create(
            actor=staff,
            patient=jordan,
            invoice_date=_days_ago(12),
            provider="Dr. Priya Raman",
            lines=[FIELDS, REFRACTION],
        )
        invoice_finalize(actor=staff, invoice=part)
        adjustment_add(
            actor=admin, invoice=part, description="Courtesy discount", amount_cents=1_500
        )
        payment_record(
            actor=staff, invoice=part, method="check", amount_cents=5_000, reference="1042"
        )
        glasses = invoice_create(
            actor=staff,
            patient=avery,
            invoice_date=_days_ago(5),
            provider="Dr. Luis Ortega",
            lines=[EXAM, FRAMES, LENSES],
        )
        invoice_finalize(actor=staff, invoice=glasses)
        invoice_create(
            actor=staff,
            patient=avery,
            invoice_date=timezone.localdate(),
            provider="Dr. Luis Ortega",
            lines=[REFRACTION],
        )


def demo_pay_bills(*, admin: StaffActor) -> None:
    """Turn Pay Bills on with the TEST processor (no real money), once: an admin may change it."""
    practice = admin.practice
    if PaymentSettings.objects.filter(practice=practice).exists():
        return
    with transaction.atomic():
        Practice.objects.filter(pk=practice.pk).update(pay_bills_enabled=True)
        practice.pay_bills_enabled = True
        payment_settings_save(actor=admin, processor=PaymentSettings.Processor.TEST)
