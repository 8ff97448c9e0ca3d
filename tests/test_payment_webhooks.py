"""The webhook: a processor's signed confirmation records one payment, and nothing else does."""

from __future__ import annotations

import json

import pytest
import requests
from django.db import connection
from django.test import Client
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.billing.gateways import SIGNATURE_HEADER, signature
from clinicportal.billing.models import Payment, PaymentAttempt, PaymentSettings
from clinicportal.notifications.models import OutboxEmail
from clinicportal.practices.models import StaffMember
from tests.races import at_once
from tests.test_pay_bills import SLUG, balance, bill, pay_bills_on, pay_form, pay_url

WEBHOOK = reverse("billing:webhook", args=[SLUG])


@pytest.fixture
def attempt(alice, patient_a, ada_portal) -> PaymentAttempt:
    """A payment of $50.00 of a $120.00 invoice, started and waiting for the processor."""
    pay_bills_on(alice)
    invoice = bill(alice, patient_a)
    form = pay_form(ada_portal, invoice)
    form[f"pay-{invoice.number}-amount"] = "50"
    assert ada_portal.post(pay_url(invoice), form).status_code == 302
    return PaymentAttempt.objects.get()


def confirmation(attempt: PaymentAttempt, **changes: object) -> bytes:
    body = {
        "type": "payment.succeeded",
        "processor_payment_id": "pi_test_abc123",
        "reference": str(attempt.public_id),
        "amount_cents": attempt.amount_cents,
        **changes,
    }
    return json.dumps(body).encode()


def post(client: Client, body: bytes, secret: str | None = None, url: str = WEBHOOK):
    if secret is None:
        secret = PaymentSettings.objects.get(practice__slug=SLUG).webhook_secret
    return client.post(
        url,
        body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: signature(body, secret)},
    )


def test_a_signed_confirmation_records_the_payment_once(attempt):
    machine = Client(enforce_csrf_checks=True)  # a processor has no CSRF token
    first = post(machine, confirmation(attempt))
    assert first.status_code == 200 and first.json() == {"status": "recorded"}
    again = post(machine, confirmation(attempt))
    assert again.status_code == 200
    payment = Payment.objects.get()
    assert payment.processor_payment_id == "pi_test_abc123"
    assert payment.method == Payment.Method.CARD_ONLINE
    assert balance(attempt.invoice) == 7_000
    assert OutboxEmail.objects.filter(kind="payment_receipt").count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PAYMENT_RECORDED).count() == 1


@pytest.mark.parametrize(
    "wrong",
    ["another secret", ""],
)
def test_a_bad_signature_records_nothing(attempt, wrong):
    answer = post(Client(), confirmation(attempt), secret=wrong)
    assert answer.status_code == 400
    assert answer.json() == {"error": "bad_signature"}
    unsigned = Client().post(WEBHOOK, confirmation(attempt), content_type="application/json")
    assert unsigned.status_code == 400
    assert Payment.objects.count() == 0
    assert PaymentAttempt.objects.get().status == PaymentAttempt.Status.PENDING


def test_a_signed_body_that_is_not_a_confirmation_is_refused(attempt):
    for body in (b"not json", b"{}", json.dumps({"type": "refund"}).encode()):
        assert post(Client(), body).status_code == 400
    assert Payment.objects.count() == 0


def test_an_unknown_reference_is_refused(attempt):
    for reference in ("00000000-0000-0000-0000-000000000404", "not-a-uuid"):
        answer = post(Client(), confirmation(attempt, reference=reference))
        assert answer.status_code == 400
        assert answer.json() == {"error": "unknown_payment"}
    assert Payment.objects.count() == 0


def test_another_practices_webhook_does_not_take_it(attempt, practice_y):
    yvonne = StaffMember.objects.get(user__username="yvonne")
    pay_bills_on(yvonne)
    other = reverse("billing:webhook", args=[practice_y.slug])
    secret = PaymentSettings.objects.get(practice=practice_y).webhook_secret
    answer = post(Client(), confirmation(attempt), secret=secret, url=other)
    assert answer.status_code == 400  # signed by Y's secret, but the attempt is X's
    assert Payment.objects.count() == 0
    assert Client().get(WEBHOOK).status_code == 405


def test_more_than_the_balance_by_then_is_still_recorded(attempt, alice):
    # The card was charged: the payment is recorded and the office refunds the difference.
    answer = post(Client(), confirmation(attempt, amount_cents=15_000))
    assert answer.status_code == 200
    assert balance(attempt.invoice) == -3_000


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_record_one_payment(live_server, alice, patient_a, ada_portal):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    pay_bills_on(alice)
    invoice = bill(alice, patient_a)
    assert ada_portal.post(pay_url(invoice), pay_form(ada_portal, invoice)).status_code == 302
    body = confirmation(PaymentAttempt.objects.get())
    secret = PaymentSettings.objects.get().webhook_secret

    def post() -> requests.Response:
        return requests.post(
            live_server.url + WEBHOOK,
            data=body,
            headers={SIGNATURE_HEADER: signature(body, secret)},
            timeout=60,
        )

    answers = at_once(post, post)
    assert [a.status_code for a in answers] == [200, 200]
    assert Payment.objects.count() == 1
    assert OutboxEmail.objects.filter(kind="payment_receipt").count() == 1
