"""Refunds: in the office for cash and checks, back to the card through the processor online.

Nothing is refunded twice (a double click, a time-out, two staff at once), never more than was
paid, and a processor's refusal releases what it held.
"""

from __future__ import annotations

import re
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.billing.gateways import RefundRefused
from clinicportal.billing.models import Payment, PaymentAttempt, Refund
from clinicportal.billing.refunds import RefundWaiting, payment_refund
from clinicportal.billing.services import payment_record
from clinicportal.notifications.models import OutboxEmail
from clinicportal.practices.models import StaffMember
from tests.conftest import actor
from tests.races import at_once
from tests.test_pay_bills import SLUG, balance, bill, pay_bills_on, pay_form, pay_url
from tests.test_stripe import deliver, start, stripe_on


def refund_url(payment: Payment) -> str:
    invoice = payment.invoice
    return reverse(
        "office:payment_refund",
        args=[invoice.patient.public_id, invoice.public_id, payment.public_id],
    )


def refund_form(client: Client, payment: Payment, **fields: str) -> dict[str, str]:
    page = client.get(refund_url(payment)).content.decode()
    key = re.search(r'name="key" value="([\w-]+)"', page)
    assert key, "no refund form"
    return {"key": key.group(1), "amount": "20.00", "reason": "Overcharged", **fields}


def invoice_page(client: Client, payment: Payment) -> str:
    invoice = payment.invoice
    url = reverse("office:invoice", args=[invoice.patient.public_id, invoice.public_id])
    return client.get(url).content.decode()


@pytest.fixture
def cash(alice, patient_a) -> Payment:
    invoice = bill(alice, patient_a)
    return payment_record(actor=actor(alice), invoice=invoice, method="cash", amount_cents=5_000)


def paid_online(client: Client, invoice, amount: str = "50") -> Payment:
    """Pay through the TEST processor's page, as the patient does."""
    form = pay_form(client, invoice)
    form[f"pay-{invoice.number}-amount"] = amount
    checkout = client.post(pay_url(invoice), form)["Location"]
    assert client.post(checkout, {"action": "pay"}).status_code == 302
    return Payment.objects.get(method=Payment.Method.CARD_ONLINE)


def test_a_cash_refund_is_recorded_at_once(cash, alice_client):
    assert "Refund" in invoice_page(alice_client, cash)
    answer = alice_client.post(refund_url(cash), refund_form(alice_client, cash))
    assert answer.status_code == 302
    refund = Refund.objects.get()
    assert (refund.status, refund.amount_cents, refund.reason) == ("done", 2_000, "Overcharged")
    cash.refresh_from_db()
    assert cash.refunded_cents == 2_000
    assert balance(cash.invoice) == 12_000 - 5_000 + 2_000
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PAYMENT_REFUNDED).count() == 1
    assert not OutboxEmail.objects.filter(kind="refund_receipt").exists()  # handed back in person
    page = invoice_page(alice_client, cash)
    assert "Overcharged" in page and "-$20.00" in page


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"amount": "50.01"}, "That is more than the $50.00 left to refund of this payment."),
        ({"amount": "0"}, "Please enter an amount greater than zero."),
        ({"amount": "-5"}, ""),
        ({"reason": "   "}, ""),
        ({"amount": "twenty"}, ""),
    ],
)
def test_a_wrong_refund_is_refused_and_writes_nothing(cash, alice_client, fields, error):
    answer = alice_client.post(refund_url(cash), refund_form(alice_client, cash, **fields))
    assert answer.status_code == 400
    if error:
        assert error in answer.content.decode()
    assert not Refund.objects.exists()
    cash.refresh_from_db()
    assert cash.refunded_cents == 0


def test_the_same_form_twice_refunds_once(cash, alice_client):
    form = refund_form(alice_client, cash)
    assert alice_client.post(refund_url(cash), form).status_code == 302
    assert alice_client.post(refund_url(cash), form).status_code == 302
    assert Refund.objects.count() == 1
    cash.refresh_from_db()
    assert cash.refunded_cents == 2_000


def test_a_payment_refunded_in_full_offers_no_more(cash, alice_client):
    alice_client.post(refund_url(cash), refund_form(alice_client, cash, amount="50.00"))
    page = alice_client.get(refund_url(cash)).content.decode()
    assert "refunded in full" in page and 'name="amount"' not in page
    assert f'href="{refund_url(cash)}"' not in invoice_page(alice_client, cash)


def test_a_refunded_invoice_can_be_voided(cash, alice_client, alice):
    from clinicportal.billing.services import invoice_void

    with pytest.raises(ValidationError):
        invoice_void(actor=actor(alice), invoice=cash.invoice, reason="Billed twice")
    alice_client.post(refund_url(cash), refund_form(alice_client, cash, amount="50.00"))
    invoice_void(actor=actor(alice), invoice=cash.invoice, reason="Billed twice")


def test_the_test_processor_refunds_to_the_card_and_emails_the_patient(
    alice, patient_a, ada_portal, alice_client
):
    from clinicportal.accounts.models import PortalAccount

    PortalAccount.objects.filter(username="ada").update(email="ada@example.com")
    pay_bills_on(alice)
    payment = paid_online(ada_portal, bill(alice, patient_a))
    answer = alice_client.post(refund_url(payment), refund_form(alice_client, payment))
    assert answer.status_code == 302
    refund = Refund.objects.get()
    assert refund.status == "done" and refund.processor_refund_id.startswith("re_test_")
    email = OutboxEmail.objects.get(kind="refund_receipt")
    assert email.to == "ada@example.com"
    assert "$20.00" in email.body_text and "Glaucoma" not in email.body_text
    assert "Overcharged" not in email.body_text  # the reason is the office's
    page = ada_portal.get(reverse("portal:bills", args=[SLUG])).content.decode()
    assert "$20.00 refunded" in page


# Stripe -------------------------------------------------------------------------------------


@pytest.fixture
def stripe_paid(fake_stripe, alice, patient_a, ada_portal) -> Payment:
    from clinicportal.accounts.models import PortalAccount

    PortalAccount.objects.filter(username="ada").update(email="ada@example.com")
    stripe_on(alice)
    invoice = bill(alice, patient_a)
    attempt, _ = start(ada_portal, invoice, "50")
    fake_stripe.pay(attempt.session_id)
    assert deliver(fake_stripe.session_event("checkout.session.completed", attempt.session_id))[0]
    return Payment.objects.get()


def test_stripe_refunds_the_payment_intent_with_the_forms_key(
    stripe_paid, alice_client, fake_stripe
):
    form = refund_form(alice_client, stripe_paid)
    answer = alice_client.post(refund_url(stripe_paid), form)
    assert answer.status_code == 302
    (sent,) = fake_stripe.created("/v1/refunds")
    assert sent.params["payment_intent"] == stripe_paid.processor_payment_id
    assert sent.params["amount"] == "2000"
    assert sent.idempotency_key == form["key"]
    refund = Refund.objects.get()
    assert refund.status == "done"
    assert refund.processor_refund_id in fake_stripe.refunds


def test_no_answer_from_stripe_keeps_the_refund_waiting_and_send_again_refunds_once(
    stripe_paid, alice_client, fake_stripe
):
    fake_stripe.mode, fake_stripe.delay = "timeout", 1.5  # Stripe refunds; the answer is lost
    answer = alice_client.post(refund_url(stripe_paid), refund_form(alice_client, stripe_paid))
    assert answer.status_code == 302
    refund = Refund.objects.get()
    assert refund.status == "pending"
    stripe_paid.refresh_from_db()
    assert stripe_paid.refunded_cents == 2_000  # held: no second refund can overdraw it
    page = invoice_page(alice_client, stripe_paid)
    assert "Waiting for the processor" in page and "Send again" in page
    fake_stripe.mode = "ok"
    send = reverse(
        "office:refund_send_again",
        args=[
            stripe_paid.patient.public_id,
            stripe_paid.invoice.public_id,
            stripe_paid.public_id,
            refund.public_id,
        ],
    )
    assert alice_client.post(send).status_code == 302
    assert alice_client.post(send).status_code == 302  # pressed twice
    refund.refresh_from_db()
    assert refund.status == "done"
    assert len(fake_stripe.refunds) == 1  # one refund at Stripe, however often asked
    assert OutboxEmail.objects.filter(kind="refund_receipt").count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PAYMENT_REFUNDED).count() == 1


def test_a_refund_stripe_refuses_is_marked_and_releases_the_amount(
    stripe_paid, alice_client, fake_stripe
):
    fake_stripe.mode = "disputed"
    answer = alice_client.post(refund_url(stripe_paid), refund_form(alice_client, stripe_paid))
    assert answer.status_code == 400
    assert "disputed this payment" in answer.content.decode()
    refund = Refund.objects.get()
    assert refund.status == "refused" and "disputed" in refund.refused_because
    stripe_paid.refresh_from_db()
    assert stripe_paid.refunded_cents == 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REFUND_REFUSED).count() == 1
    assert not OutboxEmail.objects.filter(kind="refund_receipt").exists()


def test_another_practices_staff_cannot_refund(stripe_paid, practice_y, fake_stripe):
    yvonne = StaffMember.objects.get(user__username="yvonne")
    with pytest.raises(Exception) as raised:
        payment_refund(
            actor=actor(yvonne), payment=stripe_paid, amount_cents=100, reason="x", key="k"
        )
    assert type(raised.value).__name__ == "NotFound"
    assert not Refund.objects.exists() and not fake_stripe.created("/v1/refunds")


def test_service_raises_for_refusal_and_waiting(stripe_paid, alice, fake_stripe):
    fake_stripe.mode = "disputed"
    with pytest.raises(RefundRefused):
        payment_refund(
            actor=actor(alice), payment=stripe_paid, amount_cents=100, reason="x", key="a"
        )
    fake_stripe.mode = "error"
    with pytest.raises(RefundWaiting):
        payment_refund(
            actor=actor(alice), payment=stripe_paid, amount_cents=100, reason="x", key="b"
        )
    assert set(Refund.objects.values_list("status", flat=True)) == {"refused", "pending"}
    assert PaymentAttempt.objects.get().status == "paid"


@pytest.mark.django_db(transaction=True)
def test_two_staff_refunding_at_once_never_give_back_more_than_was_paid(alice, patient_a):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    invoice = bill(alice, patient_a)
    paid = payment_record(actor=actor(alice), invoice=invoice, method="cash", amount_cents=5_000)

    def refund(key: str) -> str:
        try:
            payment_refund(
                actor=actor(alice), payment=paid, amount_cents=3_000, reason="Both", key=key
            )
        except ValidationError:
            return "refused"
        return "refunded"

    outcomes = at_once(partial(refund, "one"), partial(refund, "two"))
    assert sorted(outcomes) == ["refunded", "refused"]
    paid.refresh_from_db()
    assert paid.refunded_cents == 3_000 and Refund.objects.count() == 1
