"""Through Stripe end to end: the patient pays on Stripe's page, the office refunds part of it.

Stripe is tests/stripe_server.py: the SDK creates the Checkout Session there, the browser pays
on its hosted page, and it posts the signed event to the live server's webhook, as Stripe does.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from clinicportal.billing.models import Payment, Refund
from tests.browser.test_invoices_browser import look
from tests.browser.test_office_browser import sign_in
from tests.browser.test_portal_browser import portal_sign_in
from tests.conftest import NEW_PASSWORD
from tests.test_pay_bills import SLUG, bill
from tests.test_stripe import stripe_on

pytestmark = pytest.mark.browser


def test_the_patient_pays_through_stripe_and_the_office_refunds_part(
    make_page, axe, alice, patient_a, ada_portal, live_server, settings, fake_stripe
):
    settings.CLINICPORTAL_BASE_URL = live_server.url  # where Stripe sends the patient back
    fake_stripe.webhook_url = live_server.url + reverse("billing:stripe_webhook", args=[SLUG])
    stripe_on(alice)
    invoice = bill(alice, patient_a)

    page = make_page(360)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="PAY BILLS").click()
    axe.check(page)
    page.get_by_label("Amount to pay").fill("50.00")
    page.get_by_role("button", name="Pay invoice #1").click()
    expect(page.get_by_role("heading", name="Pay $50.00")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Pay with a declined card").click()
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined")
    axe.check(page)
    assert not Payment.objects.exists()
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_text("Thank you — your payment was received.")).to_be_visible()
    expect(page.locator(".balance-due")).to_contain_text("$70.00")
    axe.check(page)

    office = make_page(360)
    sign_in(office, axe, "alice")
    office.goto(reverse("office:invoice", args=[patient_a.public_id, invoice.public_id]))
    axe.check(office)
    expect(office.locator("table.payments")).to_contain_text("Card online")
    office.get_by_role("link", name="Refund the payment of $50.00").click()
    expect(office.get_by_role("heading", name="Refund a payment of invoice #1")).to_be_visible()
    look(office, axe, "refund")
    office.get_by_label("Amount to refund").fill("20.00")
    office.get_by_label("Reason").fill("Charged the exam twice")
    office.get_by_role("button", name="Refund to the card").click()
    expect(office.get_by_text("$20.00 was refunded to the patient’s card.")).to_be_visible()
    expect(office.locator("tr.refund")).to_contain_text("Refunded")
    look(office, axe, "refunded")
    refund = Refund.objects.get()
    assert refund.processor_refund_id in fake_stripe.refunds

    page.reload()
    expect(page.locator("table.payments")).to_contain_text("$20.00 refunded")
    axe.check(page)
