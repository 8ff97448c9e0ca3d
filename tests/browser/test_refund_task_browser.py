"""The front desk on a phone finds a refund Stripe could not make under Tasks, and signs it off."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_office_browser import sign_in
from tests.browser.test_small_screens import fits
from tests.test_refund_tasks import fail
from tests.test_stripe_refund_failures import dashboard_refund
from tests.test_stripe_refunds import paid_with_stripe

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("page", [360], indirect=True)
def test_a_failed_refund_is_a_task_to_open_and_sign_off_on_a_phone(
    page, axe, fake_stripe, alice, patient_a, ada_portal
):
    payment = paid_with_stripe(fake_stripe, alice, patient_a, ada_portal)
    fail(fake_stripe, dashboard_refund(fake_stripe, payment, 2_000))
    sign_in(page, axe, "alice")
    page.get_by_role("link", name="Tasks").first.click()
    expect(page.get_by_role("link", name="Refund failed: $20.00")).to_be_visible()
    axe.check(page)
    fits(page)
    page.get_by_role("link", name="Refund failed: $20.00").click()
    expect(page.get_by_role("heading", name="Refund failed: $20.00")).to_be_visible()
    expect(page.get_by_text("In the processor's dashboard")).to_be_visible()
    axe.check(page)
    fits(page)
    invoice = page.get_by_role("link", name="Open the invoice and its payments").get_attribute(
        "href"
    )
    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_text("Signed off: Ada Lovelace, “Refund failed: $20.00”.")).to_be_visible()
    expect(page.get_by_role("link", name="Refund failed: $20.00")).to_have_count(0)
    axe.check(page)
    assert invoice is not None
    page.goto(invoice)
    expect(page.get_by_text("Made in Stripe")).to_be_visible()
    axe.check(page)
    fits(page)
