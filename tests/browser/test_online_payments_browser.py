"""The front desk watches the portal's card payments arrive: Billing → Online payments."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinicportal.billing.models import Payment, PaymentAttempt
from tests.browser.test_office_browser import sign_in
from tests.browser.test_small_screens import browser_roles, fits
from tests.conftest import add_guardian
from tests.test_office_online_payments import finish, own_account, portal_actor, start
from tests.test_pay_bills import bill, pay_bills_on

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    """Keep a picture of the page now, when SCREENSHOT_DIR asks for them."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"online-payments-{name}.png"), full_page=True)


@pytest.fixture
def payments(alice, patient_a) -> None:
    """Ada paid twice (one partly refunded) and gave up once; her mother's payment is on its
    way; one of Ada's has waited for the processor since this morning."""
    pay_bills_on(alice)
    ada = own_account(alice, patient_a, "ada")
    mary = portal_actor(add_guardian(alice, patient_a).account, patient_a)
    invoice = bill(alice, patient_a, cents=40_000)
    _, checkout = start(ada, invoice, 12_000)
    finish(checkout)
    _, checkout = start(ada, invoice, 5_000)
    finish(checkout)
    Payment.objects.filter(amount_cents=5_000).update(refunded_cents=2_000)
    _, checkout = start(ada, invoice, 7_500)
    finish(checkout, "decline")
    stale, _ = start(ada, invoice, 3_000)
    PaymentAttempt.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=3)
    )
    start(mary, invoice, 6_000)


@pytest.mark.parametrize("page", [360], indirect=True)
def test_staff_see_online_payments_on_a_phone(page, axe, bob, payments):
    sign_in(page, axe)
    page.get_by_role("link", name="Billing", exact=True).click()
    expect(page.get_by_text("2 online payments received today")).to_be_visible()
    axe.check(page)
    fits(page)
    shot(page, "billing-360")
    page.get_by_role("link", name="Online payments").click()
    expect(page.get_by_role("heading", name="Online payments")).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(6)  # the head's row and five attempts
    expect(page.get_by_role("row", name="Mary Lovelace")).to_contain_text(
        "Waiting for the processor"
    )
    expect(page.get_by_text("($20.00 refunded)")).to_be_visible()
    expect(page.get_by_text("Not confirmed for over an hour")).to_have_count(1)
    axe.check(page)
    fits(page)
    # Stacked on a phone, the list is still a table to a screen reader.
    assert {"table", "row", "rowheader", "cell"} <= browser_roles(page)
    shot(page, "360")

    page.get_by_label("Show").select_option(label="Waiting for the processor")
    page.get_by_role("button", name="Show payments").click()
    expect(page.get_by_role("row")).to_have_count(3)
    expect(page.get_by_label("Show")).to_have_value("waiting")
    axe.check(page)
    fits(page)
    shot(page, "waiting-360")

    page.get_by_label("Show").select_option(label="Paid")
    page.get_by_role("button", name="Show payments").click()
    expect(page.get_by_role("row")).to_have_count(3)
    axe.check(page)
    page.get_by_role("link", name="#1").first.click()
    expect(page.get_by_role("heading", name="Invoice #1")).to_be_visible()
    axe.check(page)


def test_the_list_at_full_width(page, axe, bob, payments):
    sign_in(page, axe)
    page.goto("/office/billing/")
    expect(page.get_by_text("2 online payments received today")).to_be_visible()
    axe.check(page)
    shot(page, "billing-wide")
    page.get_by_role("link", name="Online payments").click()
    expect(page.get_by_role("row")).to_have_count(6)
    axe.check(page)
    fits(page)
    shot(page, "wide")
    page.get_by_role("link", name="Lovelace, Ada").first.click()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    axe.check(page)
