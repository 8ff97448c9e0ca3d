"""The Stripe adapter, driven through the real SDK against a local server that speaks Stripe's API.

Checkout Sessions carry the amount, our reference and an idempotency key; Stripe's signed
webhook events record a payment once; time-outs, errors and bad signatures record nothing.
"""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from clinicportal.billing.models import Payment, PaymentAttempt, PaymentSettings
from clinicportal.billing.processors import payment_settings_save
from clinicportal.notifications.models import OutboxEmail
from clinicportal.practices.models import Practice, StaffMember
from tests.conftest import actor
from tests.races import at_once
from tests.stripe_server import SECRET_KEY, WEBHOOK_SECRET, event_body, signed
from tests.test_pay_bills import SLUG, balance, bill, pay_form, pay_url

WEBHOOK = reverse("billing:stripe_webhook", args=[SLUG])


def stripe_on(member: StaffMember) -> None:
    Practice.objects.filter(pk=member.practice_id).update(pay_bills_enabled=True)
    payment_settings_save(
        actor=actor(member),
        processor="stripe",
        stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
    )


@pytest.fixture
def ready(fake_stripe, alice, patient_a, ada_portal):
    stripe_on(alice)
    return bill(alice, patient_a)


def start(client: Client, invoice, amount: str = "50") -> tuple[PaymentAttempt, str]:
    form = pay_form(client, invoice)
    form[f"pay-{invoice.number}-amount"] = amount
    answer = client.post(pay_url(invoice), form)
    assert answer.status_code == 302, answer.content.decode()
    return PaymentAttempt.objects.get(), answer["Location"]


def deliver(body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    answer = Client(enforce_csrf_checks=True).post(
        WEBHOOK,
        body,
        content_type="application/json",
        headers=signed(body) if headers is None else headers,
    )
    return answer.status_code, answer.json()


def test_checkout_sends_stripe_the_amount_reference_and_an_idempotency_key(
    ready, ada_portal, fake_stripe
):
    attempt, location = start(ada_portal, ready, "50")
    (sent,) = fake_stripe.created("/v1/checkout/sessions")
    assert sent.api_key == SECRET_KEY
    assert sent.idempotency_key == attempt.idempotency_key
    assert sent.params["mode"] == "payment"
    assert sent.params["client_reference_id"] == str(attempt.public_id)
    price = sent.params["line_items"][0]["price_data"]
    assert (price["unit_amount"], price["currency"]) == ("5000", "usd")
    assert f"Invoice #{ready.number}" in price["product_data"]["name"]
    assert "Glaucoma" not in json.dumps(sent.params)  # no care details reach the processor
    assert sent.params["success_url"].endswith(f"/p/{SLUG}/bills/?paid={attempt.public_id}")
    session = fake_stripe.sessions[attempt.session_id]
    assert location == session["url"]
    assert attempt.processor == "stripe"


def test_pressing_pay_twice_starts_one_checkout_session(ready, ada_portal, fake_stripe):
    form = pay_form(ada_portal, ready)
    first = ada_portal.post(pay_url(ready), form)
    second = ada_portal.post(pay_url(ready), form)
    assert first["Location"] == second["Location"]
    assert len(fake_stripe.sessions) == 1


@pytest.mark.parametrize("mode", ["timeout", "error"])
def test_stripe_down_or_slow_is_a_clear_message_and_the_same_key_works_later(
    ready, ada_portal, fake_stripe, mode
):
    fake_stripe.mode, fake_stripe.delay = mode, 1.5  # longer than the 1 s time-out
    form = pay_form(ada_portal, ready)
    answer = ada_portal.post(pay_url(ready), form)
    assert answer.status_code == 400
    assert "could not be reached" in answer.content.decode()
    attempt = PaymentAttempt.objects.get()
    assert attempt.redirect_url == "" and not Payment.objects.exists()
    fake_stripe.mode = "ok"
    again = ada_portal.post(pay_url(ready), form)  # the same form: the same attempt and key
    assert again.status_code == 302
    assert PaymentAttempt.objects.count() == 1
    assert {r.idempotency_key for r in fake_stripe.created("/v1/checkout/sessions")} == {
        attempt.idempotency_key
    }


def test_a_completed_session_records_the_payment_once(ready, ada_portal, fake_stripe):
    attempt, _ = start(ada_portal, ready, "50")
    fake_stripe.pay(attempt.session_id)
    body = fake_stripe.session_event("checkout.session.completed", attempt.session_id)
    assert deliver(body) == (200, {"status": "recorded"})
    assert deliver(body) == (200, {"status": "recorded"})  # Stripe delivers again
    payment = Payment.objects.get()
    assert (
        payment.processor_payment_id == fake_stripe.sessions[attempt.session_id]["payment_intent"]
    )
    assert payment.amount_cents == 5_000 and payment.method == Payment.Method.CARD_ONLINE
    assert balance(ready) == 7_000
    assert OutboxEmail.objects.filter(kind="payment_receipt").count() == 1


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("checkout.session.expired", PaymentAttempt.Status.EXPIRED),
        ("checkout.session.async_payment_failed", PaymentAttempt.Status.DECLINED),
    ],
)
def test_a_session_that_ends_unpaid_records_nothing(ready, ada_portal, fake_stripe, kind, status):
    attempt, _ = start(ada_portal, ready)
    body = fake_stripe.session_event(kind, attempt.session_id)
    assert deliver(body) == (200, {"status": str(status)})
    attempt.refresh_from_db()
    assert attempt.status == status
    assert not Payment.objects.exists() and balance(ready) == 12_000
    page = ada_portal.get(reverse("portal:bills", args=[SLUG])).content.decode()
    assert "Pay" in page  # the patient can try again


def test_a_delayed_payment_waits_for_its_own_event(ready, ada_portal, fake_stripe):
    attempt, _ = start(ada_portal, ready)
    body = fake_stripe.session_event(
        "checkout.session.completed", attempt.session_id, payment_status="unpaid"
    )
    assert deliver(body) == (200, {"status": "ignored"})
    assert not Payment.objects.exists()
    fake_stripe.pay(attempt.session_id)
    succeeded = fake_stripe.session_event(
        "checkout.session.async_payment_succeeded", attempt.session_id
    )
    assert deliver(succeeded) == (200, {"status": "recorded"})
    assert Payment.objects.count() == 1


def test_other_genuine_events_are_acknowledged_and_ignored(ready, fake_stripe):
    body = event_body("customer.created", {"id": "cus_123", "object": "customer"})
    assert deliver(body) == (200, {"status": "ignored"})
    assert not Payment.objects.exists()


def test_bad_signatures_old_events_and_strangers_record_nothing(ready, ada_portal, fake_stripe):
    attempt, _ = start(ada_portal, ready)
    fake_stripe.pay(attempt.session_id)
    body = fake_stripe.session_event("checkout.session.completed", attempt.session_id)
    refused = {"error": "bad_signature"}
    assert deliver(body, signed(body, secret="whsec_someone_else")) == (400, refused)
    assert deliver(body, {}) == (400, refused)
    stale = int(time.time()) - 3600  # a captured event, replayed an hour later
    assert deliver(body, signed(body, at=stale)) == (400, refused)
    assert deliver(b"not json", signed(b"not json")) == (400, refused)
    # Signed for Stripe, posted where the TEST processor's confirmations go: not read.
    test_door = reverse("billing:webhook", args=[SLUG])
    answer = Client().post(test_door, body, content_type="application/json", headers=signed(body))
    assert answer.status_code == 400
    assert not Payment.objects.exists()
    assert PaymentAttempt.objects.get().status == PaymentAttempt.Status.PENDING


def test_an_unknown_session_reference_is_refused(ready, ada_portal, fake_stripe):
    attempt, _ = start(ada_portal, ready)
    fake_stripe.pay(attempt.session_id)
    for reference in ("00000000-0000-0000-0000-000000000404", "not-a-uuid"):
        body = fake_stripe.session_event(
            "checkout.session.completed", attempt.session_id, client_reference_id=reference
        )
        assert deliver(body) == (400, {"error": "unknown_payment"})
    assert not Payment.objects.exists()


def test_a_payment_started_with_the_test_processor_is_not_confirmed_by_stripe(
    fake_stripe, alice, patient_a, ada_portal
):
    from tests.test_pay_bills import pay_bills_on

    pay_bills_on(alice)  # the TEST processor
    invoice = bill(alice, patient_a)
    attempt, _ = start(ada_portal, invoice)
    stripe_on(alice)
    session = {
        "id": "cs_test_x",
        "object": "checkout.session",
        "client_reference_id": str(attempt.public_id),
        "amount_total": attempt.amount_cents,
        "currency": "usd",
        "payment_status": "paid",
        "payment_intent": "pi_x",
    }
    body = event_body("checkout.session.completed", session)
    assert deliver(body) == (400, {"error": "unknown_payment"})
    assert not Payment.objects.exists()


def test_switching_processors_still_confirms_a_payment_started_before(
    ready, ada_portal, fake_stripe, alice
):
    attempt, _ = start(ada_portal, ready)
    payment_settings_save(actor=actor(alice), processor="")  # Off
    fake_stripe.pay(attempt.session_id)
    body = fake_stripe.session_event("checkout.session.completed", attempt.session_id)
    assert deliver(body) == (200, {"status": "recorded"})


# Admin → Payments ---------------------------------------------------------------------------


def test_admin_saves_stripe_keys_encrypted_and_never_shows_them(fake_stripe, alice, alice_client):
    url = reverse("office:settings_payments")
    page = alice_client.get(url).content.decode()
    assert "Stripe secret key" in page
    assert f"/pay/webhook/{SLUG}/stripe/" in page
    # Older API versions send no refund.* events for card refunds (gateways/stripe_checkout.py).
    assert "API version 2024-10-28 or newer" in page
    answer = alice_client.post(
        url,
        {
            "processor": "stripe",
            "stripe_secret_key": SECRET_KEY,
            "stripe_webhook_secret": WEBHOOK_SECRET,
        },
    )
    assert answer.status_code == 302
    config = PaymentSettings.objects.get()
    assert (config.processor, config.stripe_secret_key) == ("stripe", SECRET_KEY)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stripe_secret_key, stripe_webhook_secret FROM billing_paymentsettings"
        )
        stored = " ".join(cursor.fetchone())
    assert SECRET_KEY not in stored and WEBHOOK_SECRET not in stored
    page = alice_client.get(url).content.decode()
    assert SECRET_KEY not in page and WEBHOOK_SECRET not in page
    assert "A secret key is saved." in page and "test-mode key" in page
    (check,) = fake_stripe.created("/v1/balance")  # the key was tried before it was saved
    assert check.api_key == SECRET_KEY
    # Saving again with the key fields empty keeps both.
    assert alice_client.post(url, {"processor": "stripe"}).status_code == 302
    config.refresh_from_db()
    assert (config.stripe_secret_key, config.stripe_webhook_secret) == (SECRET_KEY, WEBHOOK_SECRET)


@pytest.mark.parametrize(
    ("fields", "mode", "error"),
    [
        ({"stripe_secret_key": "pk_test_123"}, "ok", "This is not a Stripe secret key"),
        ({"stripe_webhook_secret": "secret"}, "ok", "This is not a webhook signing secret"),
        ({"stripe_secret_key": "sk_test_wrong"}, "ok", "Stripe did not accept this secret key"),
        ({"stripe_secret_key": SECRET_KEY}, "error", "Stripe could not be reached"),
        ({}, "ok", "Please enter your Stripe secret key."),
    ],
)
def test_admin_refuses_keys_stripe_would_not_take(fake_stripe, alice_client, fields, mode, error):
    fake_stripe.mode = mode
    data = {"processor": "stripe", "stripe_webhook_secret": WEBHOOK_SECRET, **fields}
    answer = alice_client.post(reverse("office:settings_payments"), data)
    assert answer.status_code == 400
    page = answer.content.decode()
    assert error in page
    assert SECRET_KEY not in page and "sk_test_wrong" not in page
    assert not PaymentSettings.objects.exists()


def test_staff_who_are_not_admins_cannot_set_keys(fake_stripe, bob_client):
    answer = bob_client.post(
        reverse("office:settings_payments"),
        {"processor": "stripe", "stripe_secret_key": SECRET_KEY},
    )
    assert answer.status_code == 403
    assert not PaymentSettings.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_event_at_once_record_one_payment(
    live_server, fake_stripe, alice, patient_a, ada_portal
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    import requests

    stripe_on(alice)
    invoice = bill(alice, patient_a)
    attempt, _ = start(ada_portal, invoice)
    fake_stripe.pay(attempt.session_id)
    body = fake_stripe.session_event("checkout.session.completed", attempt.session_id)
    url = live_server.url + WEBHOOK

    def post() -> int:
        return requests.post(url, data=body, headers=signed(body), timeout=10).status_code

    assert at_once(post, post) == [200, 200]
    assert Payment.objects.count() == 1
    assert OutboxEmail.objects.filter(kind="payment_receipt").count() == 1


def test_fake_stripe_replays_an_idempotent_request(fake_stripe):
    # The local server keeps Stripe's idempotency promise, which the tests above rely on.
    from clinicportal.billing.gateways.stripe_checkout import client_for

    fake_stripe.keys.add("sk_test_other")
    client = client_for("sk_test_other")
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 100,
                    "product_data": {"name": "x"},
                },
            }
        ],
        "success_url": "https://example.com/ok",
        "cancel_url": "https://example.com/no",
    }
    one = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "k1"})  # type: ignore[arg-type]
    two = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "k1"})  # type: ignore[arg-type]
    assert one.id == two.id and len(fake_stripe.sessions) == 1
