"""The front desk bills a visit: a new invoice with two lines, finalized, paid in part."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clinicportal.billing.models import Invoice, Payment
from tests.browser.test_office_browser import sign_in

pytestmark = pytest.mark.browser


def look(page, axe, name: str) -> None:
    """Check the page with axe-core, that nothing scrolls sideways at 360 px, and keep a picture."""
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, page.url
    shots = os.environ.get("SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"invoices-{name}.png"), full_page=True)


@pytest.mark.parametrize("page", [360], indirect=True)
def test_bill_a_visit_finalize_it_and_take_a_payment(page, axe, bob, patient_a):
    sign_in(page, axe)
    page.goto(f"/office/patients/{patient_a.public_id}/#billing")
    axe.check(page)
    page.get_by_role("link", name="New invoice").click()
    expect(page.get_by_role("heading", name="New invoice")).to_be_visible()
    look(page, axe, "new")

    page.get_by_label("Provider").fill("Dr. Chen")
    page.get_by_label("Service code, line 1").fill("92004")
    page.get_by_label("Description, line 1").fill("Comprehensive eye exam")
    page.get_by_label("Diagnosis codes, line 1").fill("h40.11")
    page.get_by_label("Unit price, line 1").fill("$150.00")
    page.get_by_label("Description, line 2").fill("Artificial tears")
    page.get_by_label("Quantity, line 2").fill("2")
    page.get_by_label("Unit price, line 2").fill("12.5x")  # a slip first
    page.get_by_role("button", name="Save invoice").click()
    expect(page.get_by_text("Please enter an amount in dollars, e.g. 45.00")).to_be_visible()
    expect(page.get_by_label("Description, line 1")).to_have_value("Comprehensive eye exam")
    look(page, axe, "new-error")
    page.get_by_label("Unit price, line 2").fill("12.50")
    page.get_by_role("button", name="Save invoice").click()

    expect(page.get_by_role("heading", name="Invoice #1")).to_be_visible()
    expect(page.locator(".totals")).to_contain_text("$175.00")
    look(page, axe, "draft")
    page.get_by_role("button", name="Finalize").click()
    expect(page.get_by_text("Invoice #1 was finalized.")).to_be_visible()
    axe.check(page)

    page.get_by_role("link", name="Record payment").click()
    expect(page.get_by_label("Amount")).to_have_value("175.00")
    look(page, axe, "payment")
    page.get_by_label("Check").check()
    page.get_by_label("Amount").fill("100")
    page.get_by_label("Reference").fill("Check 1001")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text("A payment of $100.00 was recorded.")).to_be_visible()
    balance = page.locator(".totals .balance")
    expect(balance).to_contain_text("$75.00")
    look(page, axe, "finalized")

    invoice = Invoice.objects.get(patient=patient_a)
    assert invoice.is_finalized and invoice.lines.count() == 2
    assert Payment.objects.get(invoice=invoice).amount_cents == 10_000

    page.get_by_role("link", name="Billing", exact=True).click()
    expect(page.get_by_role("heading", name="Billing")).to_be_visible()
    expect(page.get_by_role("link", name="#1")).to_be_visible()
    look(page, axe, "billing")
    page.get_by_role("link", name="Payments received").click()
    expect(page.locator("tfoot")).to_contain_text("$100.00")
    look(page, axe, "payments")


def test_the_invoice_page_keeps_its_blocks_apart(page, axe, bob, patient_a, issue_access):
    """The facts, then the buttons, then Email Portal Access and its note, then the lines:
    each clear of the next (its note once ran into the "Patient" label)."""
    import datetime

    from clinicportal.billing.services import LineDraft, invoice_create, invoice_finalize
    from tests.conftest import actor

    issue_access(patient_a)
    invoice = invoice_create(
        actor=actor(bob),
        patient=patient_a,
        invoice_date=datetime.date(2026, 11, 20),
        provider="Dr. Chen",
        lines=[LineDraft(description="Eye exam", unit_price_cents=15_000)],
    )
    invoice_finalize(actor=actor(bob), invoice=invoice)
    sign_in(page, axe)
    page.goto(f"/office/patients/{patient_a.public_id}/invoices/{invoice.public_id}/")
    axe.check(page)
    blocks = [
        page.locator("dl.facts").bounding_box(),
        page.locator(".invoice-actions").bounding_box(),
        page.locator(".portal-mail").bounding_box(),
        page.locator("section", has=page.get_by_role("heading", name="Lines")).bounding_box(),
    ]
    assert all(box is not None for box in blocks)
    for above, below in itertools.pairwise(blocks):
        assert above["y"] + above["height"] + 8 <= below["y"], (above, below)
    expect(
        page.locator(".portal-mail").get_by_role("button", name="Email Portal Access")
    ).to_be_visible()
