"""PAY BILLS: a patient pays an invoice online through the TEST processor, exactly once."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.accounts.models import PortalAccount
from clinicportal.audit.models import AuditEvent
from clinicportal.billing.models import Invoice, Payment, PaymentAttempt
from clinicportal.billing.processors import payment_settings_save
from clinicportal.billing.selectors import totals, with_totals
from clinicportal.billing.services import (
    LineDraft,
    adjustment_add,
    invoice_create,
    invoice_finalize,
    payment_record,
)
from clinicportal.notifications.models import OutboxEmail
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice, StaffMember
from tests.conftest import actor, login

SLUG = "clinic-x"


def bill(member: StaffMember, patient: Patient, cents: int = 12_000) -> Invoice:
    """A finalized invoice that names the patient's care (which no email may repeat)."""
    invoice = invoice_create(
        actor=actor(member),
        patient=patient,
        invoice_date=datetime.date(2026, 11, 20),
        provider="Dr. Chen",
        lines=[
            LineDraft(
                description="Glaucoma follow-up",
                unit_price_cents=cents,
                service_code="92012",
                diagnosis_codes="H40.11",
            )
        ],
    )
    invoice_finalize(actor=actor(member), invoice=invoice)
    return invoice


def pay_bills_on(member: StaffMember, processor: str = "test") -> None:
    Practice.objects.filter(pk=member.practice_id).update(pay_bills_enabled=True)
    payment_settings_save(actor=actor(member), processor=processor)


def balance(invoice: Invoice) -> int:
    return totals(with_totals(Invoice.objects.filter(pk=invoice.pk)).get()).balance


def pay_form(client: Client, invoice: Invoice) -> dict[str, str]:
    """The Pay form of ``invoice`` as PAY BILLS shows it (amount and one-time key)."""
    page = client.get(reverse("portal:bills", args=[SLUG])).content.decode()
    prefix = f"pay-{invoice.number}"
    key = re.search(rf'name="{prefix}-key" value="(\w+)"', page)
    amount = re.search(rf'name="{prefix}-amount" value="([\d.]+)"', page)
    assert key and amount, "no Pay form for the invoice"
    return {f"{prefix}-key": key.group(1), f"{prefix}-amount": amount.group(1)}


def pay_url(invoice: Invoice) -> str:
    return reverse("portal:bill_pay", args=[SLUG, invoice.public_id])


@pytest.fixture
def ready(alice, patient_a, ada_portal) -> Invoice:
    PortalAccount.objects.filter(username="ada").update(email="ada@example.com")
    pay_bills_on(alice)
    return bill(alice, patient_a)


def test_the_whole_flow_through_the_test_processor(ready, ada_portal, alice):
    invoice = ready
    form = pay_form(ada_portal, invoice)
    assert form[f"pay-{invoice.number}-amount"] == "120.00"  # the balance, by default
    form[f"pay-{invoice.number}-amount"] = "50.00"
    started = ada_portal.post(pay_url(invoice), form)
    assert started.status_code == 302
    processor_page = started["Location"]
    assert processor_page.startswith("/pay/test/")
    page = Client().get(processor_page)  # the processor's page needs no portal session
    assert "Test payment — no real card is charged" in page.content.decode()
    assert "$50.00" in page.content.decode()
    assert Payment.objects.count() == 0  # nothing until the processor confirms

    paid = Client().post(processor_page, {"action": "pay"})
    assert paid.status_code == 302
    attempt = PaymentAttempt.objects.get()
    assert paid["Location"].endswith(f"/p/{SLUG}/bills/?paid={attempt.public_id}")

    payment = Payment.objects.get()
    assert payment.method == Payment.Method.CARD_ONLINE
    assert payment.amount_cents == 5_000
    assert payment.processor_payment_id
    assert attempt.status == PaymentAttempt.Status.PAID
    assert balance(invoice) == 7_000
    back = ada_portal.get(paid["Location"].removeprefix("http://testserver"))
    text = back.content.decode()
    # Where to find it: the page has a list of payments, not a receipt of its own.
    assert "payment was received. It is listed under Payments and receipts, below." in text
    assert "$70.00" in text and "Card online" in text
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PAYMENT_RECORDED).count() == 1

    receipt = OutboxEmail.objects.get(kind="payment_receipt")
    assert receipt.to == "ada@example.com"
    for body in (receipt.subject, receipt.body_text, receipt.body_html):
        assert "Glaucoma" not in body and "H40" not in body and "92012" not in body
    assert "$50.00" in receipt.body_text and "Clinic X" in receipt.body_text

    # The office sees it on the invoice as "Card online".
    office = reverse("office:invoice", args=[invoice.patient.public_id, invoice.public_id])
    assert "Card online" in login(Client(), alice).get(office).content.decode()


def test_what_lowers_a_balance_shows_with_its_minus(ready, ada_portal, alice):
    """Adjustments and payments are taken off the charges: the page says so with a minus,
    and a payment's row names its invoice in words a phone's card can stand on."""
    adjustment_add(actor=actor(alice), invoice=ready, description="Courtesy", amount_cents=1_500)
    payment_record(actor=actor(alice), invoice=ready, method="check", amount_cents=5_000)
    page = ada_portal.get(reverse("portal:bills", args=[SLUG])).content.decode()
    bill = re.search(r'<dl class="totals">(.*?)</dl>', page, re.S)
    assert bill is not None
    terms = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", bill.group(1)))
    assert terms == {
        "Charges": "$120.00",
        "Adjustments": "-$15.00",
        "Paid": "-$50.00",
        "Balance": "$55.00",
    }
    assert f'<th scope="row">Invoice #{ready.number}</th>' in page


def test_pressing_pay_twice_starts_one_checkout(ready, ada_portal):
    form = pay_form(ada_portal, ready)
    first = ada_portal.post(pay_url(ready), form)
    second = ada_portal.post(pay_url(ready), form)
    assert first["Location"] == second["Location"]
    assert PaymentAttempt.objects.count() == 1
    # Starting a payment is on record, once: who started it, for which invoice.
    started = AuditEvent.objects.get(action=AuditEvent.Action.PAYMENT_STARTED)
    assert started.patient_id == ready.patient_id and started.object_label == f"#{ready.number}"


def test_decline_records_nothing(ready, ada_portal):
    started = ada_portal.post(pay_url(ready), pay_form(ada_portal, ready))
    declined = Client().post(started["Location"], {"action": "decline"})
    assert declined.status_code == 302
    assert declined["Location"].endswith(f"/p/{SLUG}/bills/")
    assert Payment.objects.count() == 0
    assert PaymentAttempt.objects.get().status == PaymentAttempt.Status.DECLINED
    assert balance(ready) == 12_000


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("0", "Please enter an amount greater than zero."),
        ("-5", "Please enter an amount in dollars"),
        ("120.01", "That is more than the balance of $120.00."),
        ("lots", "Please enter an amount in dollars"),
    ],
)
def test_a_wrong_amount_is_refused_next_to_the_field(ready, ada_portal, typed, error):
    form = pay_form(ada_portal, ready)
    form[f"pay-{ready.number}-amount"] = typed
    refused = ada_portal.post(pay_url(ready), form)
    assert refused.status_code == 400
    text = refused.content.decode()
    field_error = re.search(rf'id="id_pay-{ready.number}-amount_error">(.*?)</div>', text, re.S)
    assert field_error and error in field_error.group(1)
    assert PaymentAttempt.objects.count() == 0


def test_another_patients_invoice_is_not_found(ready, ada_portal, alice, patient_b):
    theirs = bill(alice, patient_b)
    form = pay_form(ada_portal, ready)
    data = {k.replace(f"pay-{ready.number}", f"pay-{theirs.number}"): v for k, v in form.items()}
    assert ada_portal.post(pay_url(theirs), data).status_code == 404
    pdf = reverse("portal:bill_pdf", args=[SLUG, theirs.public_id])
    assert ada_portal.get(pdf).status_code == 404
    assert PaymentAttempt.objects.count() == 0


def test_the_invoice_pdf_is_in_logs(ready, ada_portal):
    pdf = ada_portal.get(reverse("portal:bill_pdf", args=[SLUG, ready.public_id]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    logs = ada_portal.get(reverse("portal:logs", args=[SLUG])).content.decode()
    assert f"downloaded invoice #{ready.number}" in logs


def test_pay_bills_off_hides_the_menu_and_every_route(alice, patient_a, ada_portal):
    invoice = bill(alice, patient_a)
    payment_settings_save(actor=actor(alice), processor="test")
    home = ada_portal.get(reverse("portal:records", args=[SLUG])).content.decode()
    assert "PAY BILLS" not in home
    for url in (
        reverse("portal:bills", args=[SLUG]),
        reverse("portal:bill_pdf", args=[SLUG, invoice.public_id]),
    ):
        assert ada_portal.get(url).status_code == 404
    assert ada_portal.post(pay_url(invoice), {}).status_code == 404
    Practice.objects.filter(slug=SLUG).update(pay_bills_enabled=True)
    shown = ada_portal.get(reverse("portal:records", args=[SLUG])).content.decode()
    assert "PAY BILLS" in shown


def test_without_a_processor_the_patient_is_asked_to_call(alice, patient_a, ada_portal):
    invoice = bill(alice, patient_a)
    Practice.objects.filter(slug=SLUG).update(pay_bills_enabled=True)
    page = ada_portal.get(reverse("portal:bills", args=[SLUG])).content.decode()
    assert "Please call the office to pay." in page
    assert f"pay-{invoice.number}-key" not in page


def test_pay_bills_lists_in_constant_queries(ready, ada_portal, alice, patient_a):
    url = reverse("portal:bills", args=[SLUG])
    ada_portal.get(url)
    with CaptureQueriesContext(connection) as one:
        ada_portal.get(url)
    for _ in range(3):
        bill(alice, patient_a)
    with CaptureQueriesContext(connection) as four:
        ada_portal.get(url)
    assert len(four) == len(one)


def test_admin_payments_page(alice_client, bob_client, alice):
    url = reverse("office:settings_payments")
    assert bob_client.get(url).status_code == 403
    page = alice_client.get(url).content.decode()
    assert "Test processor: for trying the portal" in page
    Practice.objects.filter(slug=SLUG).update(pay_bills_enabled=True)
    assert "no processor is chosen" in alice_client.get(url).content.decode()
    assert alice_client.post(url, {"processor": "test"}).status_code == 302
    config = alice.practice.payment_settings
    assert config.processor == "test" and len(config.webhook_secret) > 30
    assert config.webhook_secret not in alice_client.get(url).content.decode()


def test_a_live_site_never_offers_or_uses_the_test_processor(
    ready, ada_portal, alice, alice_client, settings
):
    from django.core.exceptions import ValidationError

    checkout = ada_portal.post(pay_url(ready), pay_form(ada_portal, ready))["Location"]
    assert ada_portal.get(checkout).status_code == 200
    settings.CLINICPORTAL_TEST_PROCESSOR = False  # as on a production site
    page = alice_client.get(reverse("office:settings_payments")).content.decode()
    assert "Test processor" not in page
    with pytest.raises(ValidationError):
        payment_settings_save(actor=actor(alice), processor="test")
    # A practice that chose it before: its page is gone, and nothing can be paid through it.
    assert ada_portal.get(checkout).status_code == 404
    assert ada_portal.post(checkout, {"action": "pay"}).status_code == 404
    assert not Payment.objects.exists()
    again = ada_portal.post(pay_url(ready), pay_form(ada_portal, ready))
    assert again.status_code != 302 or "/pay/test/" not in again["Location"]
    assert not Payment.objects.exists()
