"""Refunds that Stripe reports failed or cancelled after they were made, from ``refund.updated``.

A card refund can be on its way ("pending") and then fail (a closed card account) or be
cancelled. A refund we hold as done or waiting, the office's or one made in Stripe's dashboard,
is then marked refused with Stripe's reason in the office's words and its amount released,
once however often Stripe reports it; the patient is not emailed again.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.billing.models import Payment, Refund
from clinicportal.messaging.models import Task
from clinicportal.notifications.models import OutboxEmail
from tests.test_pay_bills import SLUG, balance
from tests.test_refunds import invoice_page, refund_form, refund_url
from tests.test_stripe import deliver
from tests.test_stripe_refunds import (
    IN_STRIPE,
    RECORDED,
    paid_with_stripe,
    send_again_url,
    waiting,
)

FAILED = (200, {"status": "refund failed"})
SENT_BACK = "Stripe could not send this refund back to the card."
REFUSED_BY_STRIPE = AuditEvent.Action.REFUND_REFUSED


@pytest.fixture
def paid(fake_stripe, alice, patient_a, ada_portal) -> Payment:
    return paid_with_stripe(fake_stripe, alice, patient_a, ada_portal)


def dashboard_refund(fake_stripe, payment: Payment, amount: int) -> str:
    """Refunded in Stripe's dashboard, reported and recorded: Stripe's refund id."""
    made = fake_stripe.dashboard_refund(payment.processor_payment_id, amount)
    assert deliver(fake_stripe.refund_event(made["id"])) == RECORDED
    return made["id"]


def refunded(payment: Payment) -> int:
    payment.refresh_from_db()
    return payment.refunded_cents


def test_a_dashboard_refund_that_fails_later_is_refused_and_gives_its_amount_back(
    paid, fake_stripe, alice_client, ada_portal
):
    made = dashboard_refund(fake_stripe, paid, 2_000)
    emails = OutboxEmail.objects.count()
    body = fake_stripe.refund_event(
        made, "refund.updated", status="failed", failure_reason="expired_or_canceled_card"
    )
    assert deliver(body) == FAILED
    refund = Refund.objects.get()
    assert (refund.status, refund.refused_because) == (Refund.Status.REFUSED, SENT_BACK)
    assert refunded(paid) == 0 and balance(paid.invoice) == 12_000 - 5_000
    event = AuditEvent.objects.get(action=REFUSED_BY_STRIPE)
    assert (event.actor_name, event.actor_user, event.patient) == ("Stripe", None, paid.patient)
    assert OutboxEmail.objects.count() == emails  # no second email to the patient
    page = invoice_page(alice_client, paid)
    assert "Refused" in page and SENT_BACK in page and "Made in Stripe" in page
    assert "Refunded in Stripe" not in page and "refunded)" not in page
    assert f'href="{refund_url(paid)}"' in page  # all $50.00 can be refunded again
    bills = ada_portal.get(reverse("portal:bills", args=[SLUG])).content.decode()
    assert "$20.00 refunded" not in bills


@pytest.mark.parametrize(
    ("status", "reason"),
    [("failed", SENT_BACK), ("canceled", "This refund was cancelled in Stripe.")],
)
def test_an_office_refund_that_fails_later_is_refused(
    paid, fake_stripe, alice_client, status, reason
):
    assert alice_client.post(refund_url(paid), refund_form(alice_client, paid)).status_code == 302
    ours = Refund.objects.get()
    assert ours.status == Refund.Status.DONE and refunded(paid) == 2_000
    body = fake_stripe.refund_event(ours.processor_refund_id, "refund.updated", status=status)
    assert deliver(body) == FAILED
    ours.refresh_from_db()
    assert (ours.status, ours.refused_because) == (Refund.Status.REFUSED, reason)
    assert refunded(paid) == 0 and Refund.objects.count() == 1
    assert AuditEvent.objects.filter(action=REFUSED_BY_STRIPE).count() == 1
    assert OutboxEmail.objects.filter(kind="refund_receipt").count() == 1  # the first, only
    page = invoice_page(alice_client, paid)
    assert reason in page and "Overcharged" in page


def test_a_failure_reported_again_gives_the_amount_back_once(paid, fake_stripe):
    failing = dashboard_refund(fake_stripe, paid, 2_000)
    dashboard_refund(fake_stripe, paid, 1_000)
    assert refunded(paid) == 3_000
    body = fake_stripe.refund_event(failing, "refund.updated", status="failed")
    assert deliver(body) == FAILED
    assert deliver(body) == FAILED  # Stripe delivers again
    assert deliver(fake_stripe.refund_event(failing, "refund.updated", status="canceled")) == FAILED
    # An older event, delivered late, does not bring the refund back.
    assert deliver(fake_stripe.refund_event(failing, status="pending")) == RECORDED
    assert refunded(paid) == 1_000
    assert Refund.objects.get(processor_refund_id=failing).status == Refund.Status.REFUSED
    assert AuditEvent.objects.filter(action=REFUSED_BY_STRIPE).count() == 1
    assert OutboxEmail.objects.filter(kind="refund_receipt").count() == 2


def test_a_waiting_refund_that_failed_is_refused_and_not_sent_again(
    paid, fake_stripe, alice_client
):
    ours = waiting(fake_stripe, alice_client, paid)
    (made,) = fake_stripe.refunds.values()
    assert deliver(fake_stripe.refund_event(made["id"], "refund.updated", status="failed")) == (
        FAILED
    )
    ours.refresh_from_db()
    assert (ours.status, ours.refused_because) == (Refund.Status.REFUSED, SENT_BACK)
    assert refunded(paid) == 0
    page = invoice_page(alice_client, paid)
    assert send_again_url(ours) not in page and SENT_BACK in page
    asked = len(fake_stripe.created("/v1/refunds"))
    assert alice_client.post(send_again_url(ours)).status_code == 302  # a page opened before
    assert len(fake_stripe.created("/v1/refunds")) == asked
    ours.refresh_from_db()
    assert ours.status == Refund.Status.REFUSED
    assert not OutboxEmail.objects.filter(kind="refund_receipt").exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PAYMENT_REFUNDED).exists()


def test_a_failure_never_takes_the_refunded_amount_below_zero(paid, fake_stripe):
    made = dashboard_refund(fake_stripe, paid, 2_000)
    # Our records hold less than this refund (corrected by hand meanwhile, say).
    Payment.objects.filter(pk=paid.pk).update(refunded_cents=500)
    assert deliver(fake_stripe.refund_event(made, "refund.updated", status="failed")) == FAILED
    assert refunded(paid) == 0
    assert Refund.objects.get().status == Refund.Status.REFUSED


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("made_first", [True, False], ids=["made-first", "failed-first"])
def test_two_deliveries_of_a_failure_at_once_give_the_amount_back_once(
    live_server, fake_stripe, alice, patient_a, ada_portal, made_first
):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    payment = paid_with_stripe(fake_stripe, alice, patient_a, ada_portal)
    fake_stripe.webhook_url = live_server.url + reverse("billing:stripe_webhook", args=[SLUG])
    if made_first:
        failing = dashboard_refund(fake_stripe, payment, 2_000)
    else:  # its failure overtakes the report of its making
        failing = fake_stripe.dashboard_refund(payment.processor_payment_id, 2_000)["id"]
    dashboard_refund(fake_stripe, payment, 1_000)
    body = fake_stripe.refund_event(failing, "refund.updated", status="failed")
    assert fake_stripe.send_twice_at_once(body) == [FAILED, FAILED]
    assert refunded(payment) == 1_000
    assert Refund.objects.filter(status=Refund.Status.REFUSED).count() == 1
    assert AuditEvent.objects.filter(action=REFUSED_BY_STRIPE).count() == 1
    assert Task.objects.filter(kind=Task.Kind.REFUND).count() == 1  # the office is told once


FAILURE = ("refund.updated", "failed")
CREATION = ("refund.created", "pending")


@pytest.mark.parametrize(
    "events",
    [
        [FAILURE, CREATION],
        [FAILURE, FAILURE, CREATION, CREATION],
        [CREATION, FAILURE],
        [CREATION, CREATION, FAILURE, FAILURE],
        [CREATION, FAILURE, CREATION],
    ],
    ids=["failed-first", "failed-first-again", "made-first", "made-first-again", "made-late"],
)
def test_a_dashboard_refund_that_failed_is_refused_in_any_order_of_its_events(
    paid, fake_stripe, alice_client, events
):
    """Stripe does not promise the order of its events: the failure can come first."""
    made = fake_stripe.dashboard_refund(paid.processor_payment_id, 2_000)["id"]
    for kind, status in events:
        answer = deliver(fake_stripe.refund_event(made, kind, status=status))
        assert answer == (FAILED if status == "failed" else RECORDED)
    refund = Refund.objects.get()
    assert (refund.status, refund.refused_because) == (Refund.Status.REFUSED, SENT_BACK)
    assert refund.made_in_processor and refund.created_by is None
    assert refund.processor_refund_id == made and refund.amount_cents == 2_000
    assert refunded(paid) == 0 and balance(paid.invoice) == 12_000 - 5_000
    refusal = AuditEvent.objects.get(action=REFUSED_BY_STRIPE)
    assert (refusal.actor_name, refusal.actor_user, refusal.patient) == (
        "Stripe",
        None,
        paid.patient,
    )
    # Made first, it was refunded for a while, with its receipt; failed first, it never was.
    made_first = events[0] == CREATION
    assert AuditEvent.objects.filter(action=IN_STRIPE).count() == made_first
    assert OutboxEmail.objects.filter(kind="refund_receipt").count() == made_first
    page = invoice_page(alice_client, paid)
    assert "Refused" in page and SENT_BACK in page and "Made in Stripe" in page
    assert "refunded)" not in page


def test_a_failure_first_then_another_refund_counts_only_the_other(paid, fake_stripe):
    failing = fake_stripe.dashboard_refund(paid.processor_payment_id, 2_000)["id"]
    failure = fake_stripe.refund_event(failing, "refund.updated", status="failed")
    assert deliver(failure) == FAILED
    dashboard_refund(fake_stripe, paid, 3_000)
    assert deliver(fake_stripe.refund_event(failing, status="pending")) == RECORDED
    assert refunded(paid) == 3_000 and balance(paid.invoice) == 12_000 - 5_000 + 3_000
    assert Refund.objects.filter(status=Refund.Status.REFUSED).count() == 1
    assert Refund.objects.filter(status=Refund.Status.DONE).count() == 1


def test_a_refund_first_reported_cancelled_is_recorded_refused(paid, fake_stripe):
    made = fake_stripe.dashboard_refund(paid.processor_payment_id, 2_000)["id"]
    assert deliver(fake_stripe.refund_event(made, status="canceled")) == FAILED
    refund = Refund.objects.get()
    assert (refund.status, refund.refused_because) == (
        Refund.Status.REFUSED,
        "This refund was cancelled in Stripe.",
    )
    assert refunded(paid) == 0 and balance(paid.invoice) == 12_000 - 5_000
    assert not OutboxEmail.objects.filter(kind="refund_receipt").exists()
