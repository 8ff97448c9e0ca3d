"""A patient pays an invoice through the TEST processor, on a phone, and sees the receipt."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.browser.test_portal_browser import portal_sign_in
from tests.conftest import NEW_PASSWORD
from tests.test_pay_bills import bill, pay_bills_on
from tests.test_pay_bills_pages import bills, payments

pytestmark = pytest.mark.browser


def test_the_patient_pays_through_the_test_processor(
    make_page, axe, alice, patient_a, ada_portal, live_server, settings
):
    settings.CLINICPORTAL_BASE_URL = live_server.url  # where the processor sends them back
    pay_bills_on(alice)
    bill(alice, patient_a)
    page = make_page(360)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="PAY BILLS").click()
    expect(page.get_by_role("heading", name="Pay Bills")).to_be_visible()
    expect(page.locator(".balance-due")).to_contain_text("$120.00")
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360

    page.get_by_label("Amount to pay").fill("50.00")
    page.get_by_role("button", name="Pay invoice #1").click()
    expect(
        page.get_by_role("heading", name="Test payment — no real card is charged")
    ).to_be_visible()
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    if shots := os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=f"{shots}/test-processor-page.png", full_page=True)

    page.get_by_role("button", name="Pay $50.00").click()
    expect(page.get_by_text("Thank you — your payment was received.")).to_be_visible()
    expect(page.locator(".balance-due")).to_contain_text("$70.00")
    receipts = page.locator("table.payments")
    expect(receipts).to_contain_text("Card online")
    expect(receipts).to_contain_text("$50.00")
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360


def test_a_wrong_amount_is_shown_next_to_the_field(make_page, axe, alice, patient_a, ada_portal):
    pay_bills_on(alice)
    bill(alice, patient_a)
    page = make_page(360)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)
    page.goto("/p/clinic-x/bills/")
    axe.check(page)
    page.get_by_label("Amount to pay").fill("500")
    page.get_by_role("button", name="Pay invoice #1").click()
    expect(page.get_by_text("That is more than the balance of $120.00.")).to_be_visible()
    axe.check(page)


def test_older_invoices_and_payments_are_a_page_away_on_a_phone(
    make_page, axe, alice, patient_a, ada_portal
):
    pay_bills_on(alice)
    made = bills(alice, patient_a, 12)
    payments(alice, made + made)  # 24 payments: two pages of them
    page = make_page(360)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)
    page.goto("/p/clinic-x/bills/")
    expect(page.get_by_role("heading", name="Invoice #12")).to_be_visible()
    expect(page.get_by_role("heading", name="Invoice #2")).to_have_count(0)
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    if shots := os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=f"{shots}/pay-bills-first-page.png", full_page=True)

    invoice_pages = page.get_by_role("navigation", name="Pages of invoices")
    invoice_pages.get_by_role("link", name="Next").click()
    expect(page.get_by_role("heading", name="Invoice #2")).to_be_visible()
    expect(page.get_by_role("heading", name="Invoice #12")).to_have_count(0)
    assert page.url.endswith("#invoices")
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360

    payment_pages = page.get_by_role("navigation", name="Pages of payments")
    payment_pages.get_by_role("link", name="Next").click()
    expect(page.locator("table.payments")).to_contain_text("R0")
    expect(page.get_by_role("heading", name="Invoice #2")).to_be_visible()  # still page two
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    if shots := os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=f"{shots}/pay-bills-older-pages.png", full_page=True)


@pytest.mark.parametrize("page", [360], indirect=True)
def test_an_admin_chooses_the_test_processor_on_a_phone(page, axe, alice):
    from clinicportal.practices.models import Practice
    from tests.browser.test_office_browser import sign_in
    from tests.conftest import enrol_authenticator

    Practice.objects.filter(pk=alice.practice_id).update(pay_bills_enabled=True)
    enrol_authenticator(alice)
    sign_in(page, axe, "alice")
    page.get_by_role("link", name="Admin").click()
    axe.check(page)
    page.get_by_role("link", name="Payments", exact=True).click()
    expect(page.get_by_text("no processor is chosen")).to_be_visible()
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    page.get_by_label("Test processor: for trying the portal").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The payment settings were saved.")).to_be_visible()
    expect(page.get_by_label("Test processor: for trying the portal")).to_be_checked()
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
