"""Refunds made in Stripe's dashboard, read back from Stripe's signed ``refund.*`` events.

The real SDK verifies and reads each event from the local Stripe (tests/stripe_server.py). A
refund is recorded once, however often or however concurrently Stripe reports it; the echo of a
refund the office made is not recorded again, and completes it once if Stripe's answer was lost;
anything else writes nothing.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.billing.models import Payment, Refund
from clinicportal.billing.refunds import RefundWaiting, payment_refund, refund_send_again
from clinicportal.notifications.models import OutboxEmail
from clinicportal.practices.models import StaffMember
from tests.conftest import actor
from tests.races import at_once
from tests.stripe_server import event_body, signed
from tests.test_pay_bills import SLUG, balance, bill
from tests.test_refunds import invoice_page, refund_form, refund_url
from tests.test_stripe import deliver, start, stripe_on

IN_STRIPE = AuditEvent.Action.PAYMENT_REFUNDED_IN_PROCESSOR
RECORDED = (200, {"status": "refund recorded"})


def paid_with_stripe(fake_stripe, member: StaffMember, patient, portal) -> Payment:
    """$50.00 of a $120.00 invoice, paid on Stripe's Checkout and confirmed by its webhook."""
    from clinicportal.accounts.models import PortalAccount

    PortalAccount.objects.filter(username="ada").update(email="ada@example.com")
    stripe_on(member)
    attempt, _ = start(portal, bill(member, patient), "50")
    fake_stripe.pay(attempt.session_id)
    assert deliver(fake_stripe.session_event("checkout.session.completed", attempt.session_id))[0]
    return Payment.objects.get()


@pytest.fixture
def paid(fake_stripe, alice, patient_a, ada_portal) -> Payment:
    return paid_with_stripe(fake_stripe, alice, patient_a, ada_portal)


def refunds_are(payment: Payment, refunded_cents: int = 0, refunds: int = 0) -> None:
    """The payment's refunds, all made in Stripe, with one receipt and one audit row each."""
    payment.refresh_from_db()
    assert payment.refunded_cents == refunded_cents
    assert Refund.objects.count() == refunds
    assert AuditEvent.objects.filter(action=IN_STRIPE).count() == refunds
    assert OutboxEmail.objects.filter(kind="refund_receipt").count() == refunds


def test_a_dashboard_refund_shows_on_the_payment_and_the_balance_with_one_receipt(
    paid, fake_stripe, alice_client, ada_portal
):
    made = fake_stripe.dashboard_refund(paid.processor_payment_id, 2_000)
    assert deliver(fake_stripe.refund_event(made["id"])) == RECORDED
    refund = Refund.objects.get()
    assert (refund.amount_cents, refund.status, refund.processor_refund_id) == (
        2_000,
        Refund.Status.DONE,
        made["id"],
    )
    assert refund.made_in_processor and refund.created_by is None and refund.done_at
    paid.refresh_from_db()
    assert paid.refunded_cents == 2_000
    assert balance(paid.invoice) == 12_000 - 5_000 + 2_000
    email = OutboxEmail.objects.get(kind="refund_receipt")
    assert email.to == "ada@example.com"
    assert "$20.00" in email.body_text and "Glaucoma" not in email.body_text
    event = AuditEvent.objects.get(action=IN_STRIPE)
    assert (event.actor_name, event.actor_user, event.patient) == ("Stripe", None, paid.patient)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PAYMENT_REFUNDED).exists()
    page = invoice_page(alice_client, paid)
    assert "Refunded in Stripe" in page and "-$20.00" in page and "($20.00 refunded)" in page
    assert f'href="{refund_url(paid)}"' in page  # $30.00 is left to refund
    bills = ada_portal.get(reverse("portal:bills", args=[SLUG])).content.decode()
    assert "$20.00 refunded" in bills


def test_the_same_refund_reported_again_is_recorded_once(paid, fake_stripe):
    made = fake_stripe.dashboard_refund(paid.processor_payment_id, 2_000)
    body = fake_stripe.refund_event(made["id"])
    assert deliver(body) == RECORDED
    assert deliver(body) == RECORDED  # Stripe delivers again
    assert deliver(fake_stripe.refund_event(made["id"], "refund.updated")) == RECORDED
    refunds_are(paid, refunded_cents=2_000, refunds=1)


def test_two_dashboard_refunds_are_two_refunds(paid, fake_stripe):
    for amount in (2_000, 3_000):
        made = fake_stripe.dashboard_refund(paid.processor_payment_id, amount)
        assert deliver(fake_stripe.refund_event(made["id"])) == RECORDED
    paid.refresh_from_db()
    assert paid.refunded_cents == 5_000 and Refund.objects.count() == 2
    assert OutboxEmail.objects.filter(kind="refund_receipt").count() == 2


def test_the_echo_of_an_office_refund_is_not_recorded_again(paid, fake_stripe, alice_client):
    answer = alice_client.post(refund_url(paid), refund_form(alice_client, paid))
    assert answer.status_code == 302
    ours = Refund.objects.get()
    assert ours.processor_refund_id in fake_stripe.refunds
    assert deliver(fake_stripe.refund_event(ours.processor_refund_id)) == RECORDED
    paid.refresh_from_db()
    assert paid.refunded_cents == 2_000 and Refund.objects.get() == ours
    assert OutboxEmail.objects.filter(kind="refund_receipt").count() == 1
    assert not AuditEvent.objects.filter(action=IN_STRIPE).exists()


def waiting(fake_stripe, client: Client, payment: Payment, **fields: str) -> Refund:
    """The office refunds; Stripe makes the refund but its answer is lost: ours waits."""
    fake_stripe.mode, fake_stripe.delay = "timeout", 1.5
    client.post(refund_url(payment), refund_form(client, payment, **fields))
    fake_stripe.mode = "ok"
    ours = Refund.objects.get()
    assert ours.status == Refund.Status.PENDING and not ours.processor_refund_id
    return ours


def send_again_url(refund: Refund) -> str:
    payment = refund.payment
    return reverse(
        "office:refund_send_again",
        args=[
            payment.patient.public_id,
            payment.invoice.public_id,
            payment.public_id,
            refund.public_id,
        ],
    )


def test_an_echo_that_overtakes_stripes_answer_completes_the_waiting_refund(
    paid, fake_stripe, alice_client, alice
):
    ours = waiting(fake_stripe, alice_client, paid)
    assert OutboxEmail.objects.filter(kind="refund_receipt").count() == 0
    (made,) = fake_stripe.refunds.values()
    assert made["metadata"] == {"reference": str(ours.public_id)}
    assert deliver(fake_stripe.refund_event(made["id"])) == RECORDED
    ours.refresh_from_db()
    assert (ours.status, ours.processor_refund_id) == (Refund.Status.DONE, made["id"])
    assert ours.done_at and not ours.made_in_processor
    paid.refresh_from_db()
    assert paid.refunded_cents == 2_000 and Refund.objects.count() == 1
    email = OutboxEmail.objects.get(kind="refund_receipt")
    assert email.to == "ada@example.com" and "$20.00" in email.body_text
    # Audited as the office's refund, by the staff member who asked for it.
    event = AuditEvent.objects.get(action=AuditEvent.Action.PAYMENT_REFUNDED)
    assert (event.actor_user, event.patient) == (alice.user, paid.patient)
    assert not AuditEvent.objects.filter(action=IN_STRIPE).exists()
    page = invoice_page(alice_client, paid)
    assert send_again_url(ours) not in page and "Waiting for the processor" not in page
    # "Send again", pressed on a page opened before, asks Stripe nothing more.
    asked = len(fake_stripe.created("/v1/refunds"))
    assert alice_client.post(send_again_url(ours)).status_code == 302
    assert len(fake_stripe.created("/v1/refunds")) == asked
    ours.refresh_from_db()
    assert ours.status == Refund.Status.DONE and len(fake_stripe.refunds) == 1
    assert OutboxEmail.objects.filter(kind="refund_receipt").count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PAYMENT_REFUNDED).count() == 1


def test_the_echo_of_a_waiting_refund_again_completes_it_once(paid, fake_stripe, alice_client):
    ours = waiting(fake_stripe, alice_client, paid)
    (made,) = fake_stripe.refunds.values()
    body = fake_stripe.refund_event(made["id"])
    assert deliver(body) == RECORDED
    done_at = Refund.objects.get().done_at
    assert deliver(body) == RECORDED  # Stripe delivers again
    assert deliver(fake_stripe.refund_event(made["id"], "refund.updated")) == RECORDED
    ours.refresh_from_db()
    assert ours.status == Refund.Status.DONE and ours.done_at == done_at
    paid.refresh_from_db()
    assert paid.refunded_cents == 2_000 and Refund.objects.count() == 1
    assert OutboxEmail.objects.filter(kind="refund_receipt").count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PAYMENT_REFUNDED).count() == 1


def test_an_echo_of_another_amount_leaves_the_refund_waiting(paid, fake_stripe, alice_client):
    ours = waiting(fake_stripe, alice_client, paid)
    (made,) = fake_stripe.refunds.values()
    body = fake_stripe.refund_event(made["id"], amount=3_000)
    assert deliver(body) == (200, {"status": "refund refused"})
    ours.refresh_from_db()
    assert ours.status == Refund.Status.PENDING and not ours.processor_refund_id
    paid.refresh_from_db()
    assert paid.refunded_cents == 2_000 and Refund.objects.count() == 1
    assert not OutboxEmail.objects.filter(kind="refund_receipt").exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PAYMENT_REFUNDED).exists()


def test_a_refund_of_a_charge_we_do_not_know_is_ignored(paid, fake_stripe):
    fake_stripe.paid["pi_someone_elses_sale"] = 9_000
    made = fake_stripe.dashboard_refund("pi_someone_elses_sale", 2_000)
    assert deliver(fake_stripe.refund_event(made["id"])) == (200, {"status": "ignored"})
    stray = {**made, "id": "re_no_intent", "payment_intent": None}  # a refund of a bare charge
    assert deliver(event_body("refund.created", stray)) == (200, {"status": "ignored"})
    refunds_are(paid)


def test_a_refund_at_another_practices_webhook_is_ignored(paid, fake_stripe, practice_y):
    stripe_on(StaffMember.objects.get(user__username="yvonne"))
    made = fake_stripe.dashboard_refund(paid.processor_payment_id, 2_000)
    body = fake_stripe.refund_event(made["id"])
    other = reverse("billing:stripe_webhook", args=[practice_y.slug])
    answer = Client().post(other, body, content_type="application/json", headers=signed(body))
    assert (answer.status_code, answer.json()) == (200, {"status": "ignored"})
    refunds_are(paid)


@pytest.mark.parametrize(
    "changes",
    [{"status": "requires_action"}, {"currency": "eur"}],
)
def test_a_refund_not_made_yet_or_not_ours_is_ignored(paid, fake_stripe, changes):
    made = fake_stripe.dashboard_refund(paid.processor_payment_id, 2_000)
    body = fake_stripe.refund_event(made["id"], **changes)
    assert deliver(body) == (200, {"status": "ignored"})
    refunds_are(paid)


def test_a_refund_of_more_than_is_left_is_refused_and_writes_nothing(
    paid, fake_stripe, alice_client
):
    # The office's refund of $30.00 never reached Stripe and waits, holding its amount; then
    # the practice refunds all $50.00 in the dashboard. Our records cannot hold both.
    fake_stripe.mode = "error"
    alice_client.post(refund_url(paid), refund_form(alice_client, paid, amount="30.00"))
    fake_stripe.mode = "ok"
    assert Refund.objects.get().status == Refund.Status.PENDING and not fake_stripe.refunds
    made = fake_stripe.dashboard_refund(paid.processor_payment_id, 5_000)
    assert deliver(fake_stripe.refund_event(made["id"])) == (200, {"status": "refund refused"})
    paid.refresh_from_db()
    assert paid.refunded_cents == 3_000 and Refund.objects.count() == 1
    assert not AuditEvent.objects.filter(action=IN_STRIPE).exists()
    assert not OutboxEmail.objects.filter(kind="refund_receipt").exists()


def test_a_refund_event_with_a_bad_signature_writes_nothing(paid, fake_stripe):
    made = fake_stripe.dashboard_refund(paid.processor_payment_id, 2_000)
    body = fake_stripe.refund_event(made["id"])
    refused = (400, {"error": "bad_signature"})
    assert deliver(body, signed(body, secret="whsec_someone_else")) == refused
    assert deliver(body, {}) == refused
    not_a_refund = event_body("refund.created", {"id": "re_x", "object": "refund"})
    assert deliver(not_a_refund) == refused
    refunds_are(paid)


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_refund_at_once_record_one_refund(
    live_server, fake_stripe, alice, patient_a, ada_portal
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    payment = paid_with_stripe(fake_stripe, alice, patient_a, ada_portal)
    fake_stripe.webhook_url = live_server.url + reverse("billing:stripe_webhook", args=[SLUG])
    made = fake_stripe.dashboard_refund(payment.processor_payment_id, 2_000)
    body = fake_stripe.refund_event(made["id"])
    assert fake_stripe.send_twice_at_once(body) == [RECORDED, RECORDED]
    refunds_are(payment, refunded_cents=2_000, refunds=1)


@pytest.mark.django_db(transaction=True)
def test_an_echo_and_send_again_at_once_complete_the_refund_once(
    live_server, fake_stripe, alice, patient_a, ada_portal
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    payment = paid_with_stripe(fake_stripe, alice, patient_a, ada_portal)
    fake_stripe.webhook_url = live_server.url + reverse("billing:stripe_webhook", args=[SLUG])
    fake_stripe.mode, fake_stripe.delay = "timeout", 1.5
    with pytest.raises(RefundWaiting):
        payment_refund(
            actor=actor(alice), payment=payment, amount_cents=2_000, reason="Both", key="k1"
        )
    fake_stripe.mode = "ok"
    ours = Refund.objects.get()
    (made,) = fake_stripe.refunds.values()
    body = fake_stripe.refund_event(made["id"])

    def echo() -> object:
        answer = fake_stripe.send(body)
        return (answer.status_code, answer.json())

    def send_again() -> object:
        return refund_send_again(actor=actor(alice), refund=ours).status

    assert at_once(echo, send_again) == [RECORDED, Refund.Status.DONE]
    ours.refresh_from_db()
    assert (ours.status, ours.processor_refund_id) == (Refund.Status.DONE, made["id"])
    payment.refresh_from_db()
    assert payment.refunded_cents == 2_000 and len(fake_stripe.refunds) == 1
    assert OutboxEmail.objects.filter(kind="refund_receipt").count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PAYMENT_REFUNDED).count() == 1
