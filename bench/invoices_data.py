"""The data set of bench/invoices.py, written in bulk (bench/bulk.py: COPY on PostgreSQL).

A practice of its own ("bench-invoices") with generated patients and --invoices invoices over
a year (one to five lines each; 90% finalized, the rest drafts or void), about two in three
finalized ones paid in part or in full within a month of their date. Two days are set apart:
a busy one (BUSY_PAYMENTS payments) and a quiet one (exactly one payment).

One patient, "Bench Bills", made through the services with a portal account, has --bills of
those invoices, and one more made through the services: 40 lines, finalized, paid in part (the
invoice the PDF is made of; made again when missing, found by its provider after).

The data set is written in one transaction, so a practice whose invoices number --invoices is
complete; a later run with the same sizes reuses it.
"""

from __future__ import annotations

import datetime
import random
import time
from dataclasses import dataclass, field
from typing import Any

from bulk import Ids, Writer, reset_sequences, step, uid, unchecked_foreign_keys

SLUG = "bench-invoices"
PORTAL_USERNAME = "bench.bills"
PORTAL_PASSWORD = "bench-bills-password-2026"
PDF_PROVIDER = "Dr. Bench Forty-Lines"
PDF_LINES = 40
START = datetime.date(2025, 1, 6)
DAYS = 365
BUSY_DAY = START + datetime.timedelta(days=200)
QUIET_DAY = BUSY_DAY + datetime.timedelta(days=1)
BUSY_PAYMENTS = 200
FIRST_NAMES = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jamal"]
LAST_NAMES = ["Abbott", "Baker", "Castillo", "Diaz", "Evans", "Fischer", "Garcia", "Hughes"]
SERVICES = [
    ("92004", "Comprehensive eye exam, new patient", "H52.13"),
    ("92014", "Comprehensive eye exam, established patient", "H52.4"),
    ("92015", "Refraction", "H52.13, H52.4"),
    ("92134", "OCT of the retina", "E11.9, H35.81"),
    ("92083", "Visual field exam", "H40.11"),
    ("V2020", "Frames", ""),
    ("V2781", "Progressive lenses", "H52.4"),
    ("92310", "Contact lens fitting", "H52.13"),
]
PROVIDERS = ["Dr. Ana Ortiz", "Dr. Ben Cole", "Dr. Mia Park"]


@dataclass(frozen=True)
class Sizes:
    invoices: int
    patients: int
    bills: int  # the invoices of "Bench Bills" (the portal's patient), of those above
    seed: int = 1

    @property
    def label(self) -> str:
        return (
            f"{self.invoices} invoices, {self.patients} patients, {self.bills} of one, "
            f"seed {self.seed}"
        )


@dataclass
class DataSet:
    practice: Any
    admin: Any  # the practice's admin StaffMember
    patient: Any  # "Bench Bills", with a portal account
    pdf_invoice: Any  # its invoice of PDF_LINES lines
    reused: bool
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def _models() -> tuple[Any, ...]:
    from clinicportal.billing.models import Adjustment, Invoice, InvoiceLine, Payment

    return (Invoice, InvoiceLine, Adjustment, Payment)


def counts(practice: Any) -> dict[str, int]:
    from clinicportal.billing.models import Invoice, InvoiceLine, Payment

    return {
        "invoices": Invoice.objects.filter(practice=practice).count(),
        "lines": InvoiceLine.objects.filter(practice=practice).count(),
        "payments": Payment.objects.filter(practice=practice).count(),
        "busy_day_payments": _day_payments(practice, BUSY_DAY),
        "quiet_day_payments": _day_payments(practice, QUIET_DAY),
    }


def _day_payments(practice: Any, day: datetime.date) -> int:
    from clinicportal.billing.models import Payment

    start = _at(day, 0)
    return Payment.objects.filter(
        practice=practice, received_at__gte=start, received_at__lt=_at(day, 24 * 60)
    ).count()


def _at(day: datetime.date, minutes: int) -> datetime.datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min)) + (
        datetime.timedelta(minutes=minutes)
    )


def ensure(sizes: Sizes, *, rebuild: bool) -> DataSet:
    """Return the data set of ``sizes``: the one in the database, or a new one."""
    from django.db import transaction

    from clinicportal.billing.models import Invoice

    started = time.perf_counter()
    practice, admin = _practice()
    patient = _bench_patient(practice)
    have = Invoice.objects.filter(practice=practice).exclude(provider=PDF_PROVIDER).count()
    if have == sizes.invoices and not rebuild:
        _vacuum()
        pdf = _pdf_invoice(practice, patient)
        return DataSet(practice, admin, patient, pdf, True, 0.0, counts(practice))
    if have:
        print(f"the data set has {have} invoices, not {sizes.invoices}: building it again")
    with transaction.atomic():
        checked = unchecked_foreign_keys()
        with step("earlier data set deleted"):
            _forget_invoices(practice)
        with step("patients"):
            patients = _patients(practice, sizes)
        with step("invoices, lines and payments"):
            _invoices(practice, admin, patient, patients, sizes)
        reset_sequences(_models())
    print(f"  committed ({'foreign keys checked' if checked else 'foreign keys not checked'})")
    with step("vacuumed and analysed"):
        _vacuum()
    pdf = _pdf_invoice(practice, patient)
    seconds = time.perf_counter() - started
    return DataSet(practice, admin, patient, pdf, False, seconds, counts(practice))


def _practice() -> tuple[Any, Any]:
    from clinicportal.practices.models import Practice, StaffMember
    from clinicportal.practices.services import practice_create

    practice = Practice.objects.filter(slug=SLUG).first()
    if practice is None:
        practice, _ = practice_create(
            name="Benchmark Invoices Eye Care",
            slug=SLUG,
            admin_username="bench.invoices.admin",
            admin_email="bench.invoices@example.com",
            admin_name="Bench Invoices Admin",
            admin_password="bench-invoices-admin-password-not-secret",
            admin_password_is_temporary=False,
        )
    admin = StaffMember.objects.select_related("user", "practice").get(
        practice=practice, role="admin"
    )
    return practice, admin


def _bench_patient(practice: Any) -> Any:
    from common import bench_portal_patient

    return bench_portal_patient(
        practice, last_name="Bills", username=PORTAL_USERNAME, password=PORTAL_PASSWORD
    )


def _forget_invoices(practice: Any) -> None:
    from django.db import connection

    from clinicportal.billing.models import Adjustment, Invoice, InvoiceLine, Payment

    with connection.cursor() as cursor:
        for model in (Payment, Adjustment, InvoiceLine, Invoice):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE practice_id = %s", [practice.pk])  # noqa: S608


def _patients(practice: Any, sizes: Sizes) -> list[int]:
    """The ids of the practice's generated patients (written now if too few)."""
    from django.db.models import Max
    from django.utils import timezone

    from clinicportal.patients.models import Patient
    from clinicportal.patients.search import name_key, phone_key

    def ids() -> list[int]:
        rows = Patient.objects.filter(practice=practice).exclude(first_name="Bench")
        return list(rows.order_by("id").values_list("id", flat=True)[: sizes.patients])

    found = ids()
    missing = sizes.patients - len(found)
    if missing <= 0:
        return found
    rng, ids_rng = random.Random(sizes.seed), random.Random()
    now = timezone.now()
    first_id = (Patient.objects.aggregate(top=Max("id"))["top"] or 0) + 1
    rows = []
    for n in range(missing):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        phone = f"({rng.randint(200, 989)}) 555-{rng.randint(0, 9999):04d}"
        born = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randint(0, 80 * 365))
        rows.append(
            (first_id + n, practice.pk, uid(ids_rng), first, last, born,
             f"{first}.{last}.{first_id + n}@patients.bench.example".lower(), phone, "", "", "",
             "", "", name_key(last), name_key(first), phone_key(phone), phone_key(phone)[::-1],
             now, now)
        )  # fmt: skip
    Writer(
        Patient,
        "id practice_id public_id first_name last_name date_of_birth email phone address_line1 "
        "address_line2 city region postal_code last_name_key first_name_key phone_digits "
        "phone_digits_reversed created_at updated_at",
    ).write(rows)
    reset_sequences([Patient])
    return ids()


def _invoices(practice: Any, admin: Any, bills: Any, patients: list[int], sizes: Sizes) -> None:
    """The invoices, their lines and payments; the busy and the quiet day set apart."""
    from clinicportal.billing.models import Invoice, InvoiceLine, Payment

    rng, ids_rng = random.Random(sizes.seed), random.Random()
    ids = Ids(*_models())
    user = admin.user_id
    invoices, lines, payments = [], [], []
    paid: list[tuple[int, int, int, datetime.date]] = []  # invoice, patient, charges, date
    order = sorted(
        (START + datetime.timedelta(days=rng.randrange(DAYS)), n) for n in range(sizes.invoices)
    )
    bills_numbers = set(rng.sample(range(sizes.invoices), sizes.bills))
    for number, (day, n) in enumerate(order, start=1):
        invoice_id = ids.take(Invoice)
        patient_id = bills.pk if n in bills_numbers else rng.choice(patients)
        roll = rng.random()
        status = "finalized" if roll < 0.9 or n in bills_numbers else "draft"
        if roll >= 0.97 and n not in bills_numbers:
            status = "void"
        created = _at(day, 8 * 60)
        invoices.append(
            (invoice_id, practice.pk, patient_id, uid(ids_rng), number, day,
             rng.choice(PROVIDERS), status, "Entered twice" if status == "void" else "", created,
             user, created if status != "draft" else None, created if status == "void" else None)
        )  # fmt: skip
        charges = 0
        for position in range(1, rng.randint(1, 5) + 1):
            code, description, diag = rng.choice(SERVICES)
            quantity, price = rng.choice((1, 1, 1, 2)), rng.randrange(2500, 25000, 500)
            charges += quantity * price
            lines.append(
                (ids.take(InvoiceLine), practice.pk, invoice_id, position, code, description,
                 diag, quantity, price)
            )  # fmt: skip
        if status == "finalized" and rng.random() < 0.65:
            paid.append((invoice_id, patient_id, charges, day))
    busy = set(rng.sample(range(len(paid)), min(BUSY_PAYMENTS, len(paid) - 1)))
    quiet = next(i for i in range(len(paid)) if i not in busy)
    for index, (invoice_id, patient_id, charges, day) in enumerate(paid):
        if index in busy:
            received = BUSY_DAY
        elif index == quiet:
            received = QUIET_DAY
        else:
            received = day + datetime.timedelta(days=rng.randint(0, 30))
            while received in (BUSY_DAY, QUIET_DAY):
                received += datetime.timedelta(days=2)
        at = _at(received, 9 * 60 + rng.randrange(8 * 60))
        amount = charges if rng.random() < 0.7 else charges // 2
        method = rng.choice(("cash", "check", "card_office", "card_office"))
        payments.append(
            (ids.take(Payment), practice.pk, patient_id, invoice_id, uid(ids_rng), method,
             amount, 0, f"#{rng.randint(1000, 9999)}" if method == "check" else "", at, user,
             None, at)
        )  # fmt: skip
    Writer(
        Invoice,
        "id practice_id patient_id public_id number invoice_date provider status void_reason "
        "created_at created_by_id finalized_at voided_at",
    ).write(invoices)
    Writer(
        InvoiceLine,
        "id practice_id invoice_id position service_code description diagnosis_codes quantity "
        "unit_price_cents",
    ).write(lines)
    Writer(
        Payment,
        "id practice_id patient_id invoice_id public_id method amount_cents refunded_cents "
        "reference received_at recorded_by_id processor_payment_id created_at",
    ).write(payments)


def _pdf_invoice(practice: Any, patient: Any) -> Any:
    """The Bench Bills invoice of PDF_LINES lines, made through the services once."""
    from common import bench_actor

    from clinicportal.billing.models import Invoice
    from clinicportal.billing.services import (
        LineDraft,
        invoice_create,
        invoice_finalize,
        payment_record,
    )

    found = Invoice.objects.filter(practice=practice, provider=PDF_PROVIDER).first()
    if found is not None:
        return found
    actor = bench_actor(practice)
    drafts = [
        LineDraft(
            description=f"{SERVICES[n % len(SERVICES)][1]} (visit {n // len(SERVICES) + 1})",
            unit_price_cents=2500 + 125 * n,
            quantity=1 + n % 3,
            service_code=SERVICES[n % len(SERVICES)][0],
            diagnosis_codes=SERVICES[n % len(SERVICES)][2],
        )
        for n in range(PDF_LINES)
    ]
    invoice = invoice_create(
        actor=actor,
        patient=patient,
        invoice_date=START + datetime.timedelta(days=DAYS - 1),
        provider=PDF_PROVIDER,
        lines=drafts,
    )
    invoice_finalize(actor=actor, invoice=invoice)
    payment_record(actor=actor, invoice=invoice, method="cash", amount_cents=10000)
    return invoice


def _vacuum() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    from clinicportal.patients.models import Patient

    with connection.cursor() as cursor:
        for model in (*_models(), Patient):
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
