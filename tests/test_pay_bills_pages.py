"""PAY BILLS in pages: the balance of every invoice on top, invoices and payments newest first."""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinicportal.billing.models import Invoice, Payment, PaymentAttempt
from clinicportal.billing.selectors import INVOICES_PER_PAGE, PAYMENTS_PER_PAGE
from clinicportal.billing.services import (
    LineDraft,
    invoice_create,
    invoice_finalize,
    payment_record,
)
from clinicportal.patients.models import Patient
from clinicportal.practices.models import StaffMember
from tests.conftest import NEW_PASSWORD, actor, portal_login
from tests.pages import without_form_values
from tests.test_pay_bills import SLUG, pay_bills_on

BILLS = reverse("portal:bills", args=[SLUG])
FIRST_DAY = datetime.date(2025, 1, 6)


def bills(member: StaffMember, patient: Patient, count: int) -> list[Invoice]:
    """``count`` finalized invoices of $100.00, $100.01, …, two a day, oldest first."""
    made = []
    for n in range(count):
        invoice = invoice_create(
            actor=actor(member),
            patient=patient,
            invoice_date=FIRST_DAY + datetime.timedelta(days=n // 2),
            provider="Dr. Chen",
            lines=[LineDraft(description="Visit", unit_price_cents=10_000 + n)],
        )
        invoice_finalize(actor=actor(member), invoice=invoice)
        made.append(invoice)
    return made


def payments(member: StaffMember, invoices: list[Invoice], mark: str = "R") -> list[Payment]:
    """A payment of $1.00 on each invoice, oldest first; two at each moment, as in a batch."""
    start = timezone.make_aware(datetime.datetime(2025, 3, 1, 9))
    return [
        payment_record(
            actor=actor(member),
            invoice=invoice,
            method=Payment.Method.CASH,
            amount_cents=100,
            reference=f"{mark}{n}",
            received_at=start + datetime.timedelta(hours=n // 2),
        )
        for n, invoice in enumerate(invoices)
    ]


def shown_invoices(html: str) -> list[int]:
    """The numbers of the invoices the page lists, top to bottom."""
    return [int(n) for n in re.findall(r"<h3>Invoice #(\d+)</h3>", html)]


def shown_receipts(html: str) -> list[str]:
    """The confirmations of the payments the page lists, top to bottom."""
    table = re.search(r'<table class="table payments">(.*?)</table>', html, re.S)
    return re.findall(r'data-label="Confirmation">([^<]*)</td>', table.group(1)) if table else []


def link(html: str, nav: str, text: str) -> str | None:
    """The address of ``text`` (First, Previous, Next, Last) in the links of ``nav``, or None."""
    found = re.search(rf'<nav class="pagination" aria-label="{nav}">(.*?)</nav>', html, re.S)
    if found is None:
        return None
    address = re.search(rf'<a href="(\?[^"]*)"[^>]*>{text}</a>', found.group(1))
    return BILLS + unescape(address.group(1)) if address else None


def numbers(invoices: list[Invoice]) -> list[int]:
    return [invoice.number for invoice in invoices]


def page(client: Client, address: str | None) -> str:
    assert address is not None
    response = client.get(address)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def many(alice, patient_a, ada_portal) -> list[Invoice]:
    """Ada's 25 invoices, oldest first, each with a payment."""
    pay_bills_on(alice)
    made = bills(alice, patient_a, 25)
    payments(alice, made)
    return made


def test_the_first_page_shows_the_newest_invoices_and_the_balance_of_them_all(many, ada_portal):
    html = page(ada_portal, BILLS)
    assert shown_invoices(html) == numbers(many[::-1][:INVOICES_PER_PAGE])
    # $100.00 + … + $100.24, less $1.00 paid on each: 25 × $99.00 + $3.00.
    assert '<p class="balance-due">Balance due: <strong>$2,478.00</strong></p>' in html
    assert link(html, "Pages of invoices", "Previous") is None
    assert link(html, "Pages of invoices", "First") is None
    newest = many[-1]
    pdf = reverse("portal:bill_pdf", args=[SLUG, newest.public_id])
    assert f'href="{pdf}"' in html
    assert f'action="{reverse("portal:bill_pay", args=[SLUG, newest.public_id])}"' in html


def test_next_shows_older_invoices_until_the_oldest_and_previous_comes_back(many, ada_portal):
    newest_first = numbers(many[::-1])
    html = page(ada_portal, BILLS)
    seen = shown_invoices(html)
    pages = [html]
    while following := link(html, "Pages of invoices", "Next"):
        assert following.endswith("#invoices")  # lands on the list, not the top of the page
        html = page(ada_portal, following)
        pages.append(html)
        seen += shown_invoices(html)
    assert seen == newest_first  # every invoice once, newest first, across three pages
    assert len(pages) == 3
    # Each invoice's PDF link and Pay form are on the page that lists it.
    oldest = many[0]
    assert reverse("portal:bill_pdf", args=[SLUG, oldest.public_id]) in pages[-1]
    assert f'name="pay-{oldest.number}-key"' in pages[-1]

    back = page(ada_portal, link(pages[-1], "Pages of invoices", "Previous"))
    assert shown_invoices(back) == newest_first[INVOICES_PER_PAGE : 2 * INVOICES_PER_PAGE]
    last = page(ada_portal, link(pages[0], "Pages of invoices", "Last"))
    assert shown_invoices(last) == newest_first[-INVOICES_PER_PAGE:]
    assert link(last, "Pages of invoices", "Next") is None
    first = page(ada_portal, link(last, "Pages of invoices", "First"))
    assert shown_invoices(first) == newest_first[:INVOICES_PER_PAGE]


def test_payments_page_newest_first_and_each_list_keeps_the_others_place(many, ada_portal):
    receipts = [f"R{n}" for n in range(len(many))][::-1]
    html = page(ada_portal, BILLS)
    assert shown_receipts(html) == receipts[:PAYMENTS_PER_PAGE]
    invoices_next = link(html, "Pages of invoices", "Next")
    second = page(ada_portal, invoices_next)
    assert shown_receipts(second) == receipts[:PAYMENTS_PER_PAGE]  # the payments stay put

    older_payments = link(second, "Pages of payments", "Next")
    assert older_payments is not None and older_payments.endswith("#payments")
    both = page(ada_portal, older_payments)
    assert shown_receipts(both) == receipts[PAYMENTS_PER_PAGE:]
    assert shown_invoices(both) == shown_invoices(second)  # the invoices' page is kept
    assert link(both, "Pages of payments", "Next") is None
    # and the invoices' links keep the payments' place in turn
    again = page(ada_portal, link(both, "Pages of invoices", "First"))
    assert shown_invoices(again) == numbers(many[::-1][:INVOICES_PER_PAGE])
    assert shown_receipts(again) == receipts[PAYMENTS_PER_PAGE:]


def test_the_page_costs_the_same_queries_with_3_invoices_as_with_60(
    alice, patient_a, patient_b, ada_portal
):
    pay_bills_on(alice)
    payments(alice, bills(alice, patient_a, 3))
    ada_portal.get(BILLS)  # the first page after sign-in may stamp the session's use

    def count(address: str | None) -> int:
        assert address is not None
        with CaptureQueriesContext(connection) as queries:
            assert ada_portal.get(address).status_code == 200
        return len(queries)

    few = count(BILLS)
    payments(alice, bills(alice, patient_a, 57))
    html = page(ada_portal, BILLS)
    assert len(shown_invoices(html)) == INVOICES_PER_PAGE
    assert len(shown_receipts(html)) == PAYMENTS_PER_PAGE
    later = [
        link(html, "Pages of invoices", "Next"),
        link(html, "Pages of invoices", "Last"),
        link(html, "Pages of payments", "Next"),
        link(html, "Pages of payments", "Last"),
    ]
    assert [count(BILLS)] + [count(address) for address in later] == [few] * 5


@pytest.fixture
def bea_portal(alice, patient_b, issue_access) -> Client:
    """Patient B, in the same practice, signed in to the portal."""
    username, temporary = issue_access(patient_b, "bea")
    client = Client()
    portal_login(client, alice.practice, username, temporary)
    client.post(
        f"/p/{SLUG}/password/",
        {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    return client


def test_another_patients_cursor_shows_only_their_own_invoices(
    many, ada_portal, alice, patient_b, bea_portal
):
    hers = bills(alice, patient_b, 2)
    payments(alice, hers, mark="B")
    ada_html = page(ada_portal, BILLS)
    cursors = [
        link(ada_html, nav, text)
        for nav in ("Pages of invoices", "Pages of payments")
        for text in ("Next", "Last")
    ]
    oldest, newest = many[0], many[-1]
    crafted = [
        f"{BILLS}?invoices=a{newest.invoice_date.isoformat()}_{newest.number + 1}",
        f"{BILLS}?invoices=b{oldest.invoice_date.isoformat()}_{oldest.number - 1}",
        f"{BILLS}?invoices=a9999-12-31_999999&payments=b2000-01-01T00:00:00%2B00:00_0",
    ]
    ada_numbers = set(numbers(many))
    for address in [*cursors, *crafted]:
        html = page(bea_portal, address)
        # A cursor is only a place in a list: Bea's own, read from there on.
        assert shown_invoices(html) and set(shown_invoices(html)) <= set(numbers(hers))
        assert not ada_numbers & set(shown_invoices(html))
        assert set(shown_receipts(html)) <= {"B0", "B1"}
        assert "<strong>$198.01</strong>" in html  # her balance: $100.00 + $100.01 less $2.00
        # Nowhere on the page either (the form tokens left out: random letters may spell it).
        shown = without_form_values(html)
        assert f"Invoice #{newest.number}" not in shown and "R24" not in shown


@pytest.mark.parametrize(
    "query",
    [
        "invoices=zzz&payments=garbage",
        "invoices=a2025-02-30_1",  # no such day
        "invoices=a2025-01-06T00:00:00%2B00:00_1",  # a moment where the list has days
        "payments=a2025-03-01_1",  # a day where the list has moments
        "invoices=a1900-01-01_1&payments=a1900-01-01T00:00:00%2B00:00_1",  # past the oldest
    ],
)
def test_a_cursor_that_makes_no_sense_or_is_past_the_end_gives_the_first_page(
    many, ada_portal, query
):
    html = page(ada_portal, f"{BILLS}?{query}")
    assert shown_invoices(html) == numbers(many[::-1][:INVOICES_PER_PAGE])
    assert shown_receipts(html) == [f"R{n}" for n in range(24, 4, -1)]


def test_a_wrong_amount_on_an_older_page_comes_back_on_that_page(many, ada_portal):
    second = page(ada_portal, link(page(ada_portal, BILLS), "Pages of invoices", "Next"))
    invoice = many[::-1][INVOICES_PER_PAGE]  # the first one on the second page
    prefix = f"pay-{invoice.number}"
    form = re.search(
        rf'<form method="post" action="([^"]+)"[^>]*>(?:(?!</form>).)*name="{prefix}-key"'
        rf' value="(\w+)"',
        second,
        re.S,
    )
    assert form is not None
    action = unescape(form.group(1))
    assert action.startswith(reverse("portal:bill_pay", args=[SLUG, invoice.public_id]) + "?")
    refused = ada_portal.post(action, {f"{prefix}-amount": "5000", f"{prefix}-key": form[2]})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert shown_invoices(text) == shown_invoices(second)
    error = re.search(rf'id="id_{prefix}-amount_error">(.*?)</div>', text, re.S)
    assert error and "That is more than the balance of $99.14." in error.group(1)
    assert PaymentAttempt.objects.count() == 0


def test_the_thank_you_notice_still_shows_above_the_first_page(many, ada_portal, alice):
    from clinicportal.accounts.models import PortalAccount

    attempt = PaymentAttempt.objects.create(
        practice=alice.practice,
        patient=many[0].patient,
        invoice=many[0],
        account=PortalAccount.objects.get(username="ada"),
        amount_cents=500,
        idempotency_key="k" * 32,
        processor="test",
    )
    html = page(ada_portal, f"{BILLS}?paid={attempt.public_id}")
    assert "Thank you — your payment will show here as soon as the processor confirms it." in html
    assert shown_invoices(html) == numbers(many[::-1][:INVOICES_PER_PAGE])
    # The pages' links do not carry the notice along.
    assert "paid=" not in (link(html, "Pages of invoices", "Next") or "paid=")
