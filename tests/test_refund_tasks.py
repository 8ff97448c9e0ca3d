"""A refund Stripe reports failed is a task for the office: the money must go back another way.

One task a refund, written in the transaction that marks it refused, however often or in
whichever order Stripe reports it; listed, filtered and signed off like the other tasks.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clinicportal.billing.models import Payment, Refund
from clinicportal.messaging.models import Task
from tests.test_refunds import refund_form, refund_url
from tests.test_stripe import deliver
from tests.test_stripe_refund_failures import FAILED, SENT_BACK, dashboard_refund
from tests.test_stripe_refunds import RECORDED, paid_with_stripe


@pytest.fixture
def paid(fake_stripe, alice, patient_a, ada_portal) -> Payment:
    return paid_with_stripe(fake_stripe, alice, patient_a, ada_portal)


def fail(fake_stripe, refund_id: str) -> None:
    body = fake_stripe.refund_event(refund_id, "refund.updated", status="failed")
    assert deliver(body) == FAILED


def invoice_url(payment: Payment) -> str:
    return reverse("office:invoice", args=[payment.patient.public_id, payment.invoice.public_id])


def test_a_refund_that_fails_later_is_one_open_task_to_give_the_money_back(
    paid, fake_stripe, alice_client
):
    made = dashboard_refund(fake_stripe, paid, 2_000)
    assert not Task.objects.exists()  # a refund that is made is nothing to do
    fail(fake_stripe, made)
    task = Task.objects.get()
    refund = Refund.objects.get()
    assert (task.kind, task.category, task.refund, task.patient) == (
        Task.Kind.REFUND,
        "refund",
        refund,
        paid.patient,
    )
    assert task.is_open
    listed = alice_client.get(reverse("office:tasks")).content.decode()
    assert "Refund failed: $20.00" in listed and paid.patient.sort_name in listed
    assert SENT_BACK in listed
    detail = alice_client.get(reverse("office:task", args=[task.public_id])).content.decode()
    assert "Refund failed: $20.00" in detail and paid.patient.full_name in detail
    assert f'href="{invoice_url(paid)}#payments-title"' in detail
    assert SENT_BACK in detail and "In the processor's dashboard" in detail
    # Stripe reports it again: still one task.
    fail(fake_stripe, made)
    assert deliver(fake_stripe.refund_event(made, "refund.updated", status="canceled")) == FAILED
    assert Task.objects.count() == 1


def test_the_tasks_list_filters_failed_refunds_by_their_category(paid, fake_stripe, alice_client):
    fail(fake_stripe, dashboard_refund(fake_stripe, paid, 2_000))
    page = alice_client.get(reverse("office:tasks")).content.decode()
    assert '<option value="refund">Refund</option>' in page
    chosen = alice_client.get(reverse("office:tasks"), {"category": "refund"}).content.decode()
    assert "Refund failed: $20.00" in chosen
    assert '<option value="refund" selected>Refund</option>' in chosen
    billing = alice_client.get(reverse("office:tasks"), {"category": "billing"}).content.decode()
    assert "Refund failed" not in billing


def test_a_failed_refund_task_is_signed_off_and_reopened_like_the_others(
    paid, fake_stripe, alice_client
):
    fail(fake_stripe, dashboard_refund(fake_stripe, paid, 2_000))
    task = Task.objects.get()
    sign_off = reverse("office:task_sign_off", args=[task.public_id])
    answer = alice_client.post(sign_off, follow=True).content.decode()
    assert "Signed off:" in answer and "Refund failed: $20.00" in answer
    task.refresh_from_db()
    assert not task.is_open and task.signed_off_by_name
    assert "Refund failed" not in alice_client.get(reverse("office:tasks")).content.decode()
    assert (
        alice_client.post(reverse("office:task_reopen", args=[task.public_id])).status_code == 302
    )
    task.refresh_from_db()
    assert task.is_open
    # A failure reported again, once the task is dealt with, does not put the refund back.
    task_count = Task.objects.count()
    fail(fake_stripe, Refund.objects.get().processor_refund_id)
    assert Task.objects.count() == task_count == 1


def test_a_failure_that_overtakes_the_refund_makes_one_task(paid, fake_stripe, alice_client):
    made = fake_stripe.dashboard_refund(paid.processor_payment_id, 2_000)["id"]
    fail(fake_stripe, made)
    fail(fake_stripe, made)
    assert deliver(fake_stripe.refund_event(made, status="pending")) == RECORDED
    task = Task.objects.get()
    assert task.refund == Refund.objects.get(status=Refund.Status.REFUSED)
    assert task.is_open and task.patient == paid.patient


def test_an_office_refund_that_fails_later_makes_a_task(paid, fake_stripe, alice_client):
    assert alice_client.post(refund_url(paid), refund_form(alice_client, paid)).status_code == 302
    ours = Refund.objects.get()
    assert not Task.objects.exists()
    fail(fake_stripe, ours.processor_refund_id)
    task = Task.objects.get(refund=ours)
    detail = alice_client.get(reverse("office:task", args=[task.public_id])).content.decode()
    assert "Refund failed: $20.00" in detail and "In the office" in detail


def test_a_refund_stripe_refuses_when_asked_makes_no_task(paid, fake_stripe, alice_client):
    """Stripe refuses the office's refund as it is asked for: the staff member sees it there."""
    fake_stripe.mode = "disputed"
    alice_client.post(refund_url(paid), refund_form(alice_client, paid))
    assert Refund.objects.get().status == Refund.Status.REFUSED
    assert not Task.objects.exists()


def test_a_refund_task_must_name_its_refund(alice, patient_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(
            practice=alice.practice,
            patient=patient_a,
            kind=Task.Kind.REFUND,
            category="refund",
            created_at=timezone.now(),
        )
