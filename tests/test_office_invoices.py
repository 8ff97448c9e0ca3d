"""Invoices in the office: create, edit a draft, finalize, void, adjust, take a payment."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinicportal.audit.models import AuditEvent
from clinicportal.billing import services
from clinicportal.billing.models import Adjustment, Invoice, InvoiceLine, Payment
from clinicportal.billing.services import LineDraft
from clinicportal.office.invoice_forms import BLANK_LINES
from tests.conftest import actor

DAY = datetime.date(2026, 11, 20)
EXAM = LineDraft(
    description="Comprehensive eye exam", unit_price_cents=15_000, service_code="92004"
)


def make(member, patient, *, finalized: bool = False, lines=(EXAM,)) -> Invoice:
    invoice = services.invoice_create(
        actor=actor(member), patient=patient, invoice_date=DAY, provider="Dr. Chen", lines=lines
    )
    if finalized:
        services.invoice_finalize(actor=actor(member), invoice=invoice)
    return invoice


def url(name: str, invoice: Invoice) -> str:
    return reverse(f"office:{name}", args=[invoice.patient.public_id, invoice.public_id])


def lines_post(*rows: dict[str, str], total: int = BLANK_LINES) -> dict[str, str]:
    data = {
        "lines-TOTAL_FORMS": str(total),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
    }
    for i in range(total):
        row = rows[i] if i < len(rows) else {}
        data.update(
            {
                f"lines-{i}-service_code": row.get("service_code", ""),
                f"lines-{i}-description": row.get("description", ""),
                f"lines-{i}-diagnosis_codes": row.get("diagnosis_codes", ""),
                f"lines-{i}-quantity": row.get("quantity", "1"),
                f"lines-{i}-unit_price": row.get("unit_price", ""),
            }
        )
    return data


def new_invoice_post(*rows: dict[str, str], **fields: str) -> dict[str, str]:
    return {"invoice_date": "2026-11-20", "provider": "Dr. Chen", **fields, **lines_post(*rows)}


def test_create_an_invoice_with_lines_typed_in_dollars(bob_client, patient_a):
    page = bob_client.get(reverse("office:invoice_new", args=[patient_a.public_id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'name="lines-{BLANK_LINES - 1}-description"' in html
    assert f'value="{timezone.localdate().isoformat()}"' in html  # the date defaults to today
    response = bob_client.post(
        reverse("office:invoice_new", args=[patient_a.public_id]),
        new_invoice_post(
            {
                "service_code": "92004",
                "description": "Eye exam",
                "diagnosis_codes": "h40.11",
                "unit_price": "$150.00",
            },
            {"description": "Artificial tears", "quantity": "2", "unit_price": "12.5"},
        ),
    )
    invoice = Invoice.objects.get(patient=patient_a)
    assert response.status_code == 302 and response["Location"] == url("invoice", invoice)
    assert invoice.is_draft and invoice.provider == "Dr. Chen"
    lines = list(invoice.lines.values_list("description", "quantity", "unit_price_cents"))
    assert lines == [("Eye exam", 1, 15_000), ("Artificial tears", 2, 1_250)]
    shown = bob_client.get(url("invoice", invoice)).content.decode()
    assert "$175.00" in shown and "H40.11" in shown and "Draft" in shown


def test_a_price_that_is_not_dollars_is_refused_next_to_it(bob_client, patient_a):
    response = bob_client.post(
        reverse("office:invoice_new", args=[patient_a.public_id]),
        new_invoice_post({"description": "Exam", "unit_price": "12.345"}),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_lines-0-unit_price_error"' in html
    assert "Please enter an amount in dollars, e.g. 45.00" in html
    assert not Invoice.objects.exists()


def test_an_invoice_without_lines_says_so_above_the_lines(bob_client, patient_a):
    response = bob_client.post(
        reverse("office:invoice_new", args=[patient_a.public_id]), new_invoice_post()
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="lines-errors"' in html and "Please add at least one line." in html
    assert html.index("Please add at least one line.") < html.index('name="lines-0-description"')
    assert not Invoice.objects.exists()


def test_a_double_post_of_the_new_invoice_form_makes_one_invoice(bob_client, patient_a):
    data = new_invoice_post({"description": "Exam", "unit_price": "150"}, submission="t" * 32)
    target = reverse("office:invoice_new", args=[patient_a.public_id])
    first, second = bob_client.post(target, data), bob_client.post(target, data)
    assert Invoice.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]


def test_edit_a_draft_then_finalize_and_editing_is_refused(bob, bob_client, patient_a):
    invoice = make(bob, patient_a)
    form = bob_client.get(url("invoice_edit", invoice)).content.decode()
    assert 'value="Comprehensive eye exam"' in form and 'value="150.00"' in form
    response = bob_client.post(
        url("invoice_edit", invoice),
        {
            "invoice_date": "2026-11-21",
            "provider": "Dr. Patel",
            **lines_post({"description": "Follow-up visit", "unit_price": "80"}),
        },
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.provider, invoice.invoice_date) == ("Dr. Patel", datetime.date(2026, 11, 21))
    assert list(invoice.lines.values_list("description", flat=True)) == ["Follow-up visit"]

    assert bob_client.post(url("invoice_finalize", invoice)).status_code == 302
    invoice.refresh_from_db()
    assert invoice.is_finalized
    refused = bob_client.get(url("invoice_edit", invoice))
    assert refused.status_code == 409
    assert "can no longer be changed" in refused.content.decode()
    again = bob_client.post(
        url("invoice_edit", invoice),
        {"invoice_date": "2026-11-22", "provider": "X", **lines_post({"description": "Y"})},
    )
    assert again.status_code == 409
    assert list(invoice.lines.values_list("description", flat=True)) == ["Follow-up visit"]


def test_the_buttons_follow_the_status(bob, bob_client, patient_a):
    invoice = make(bob, patient_a)
    draft = bob_client.get(url("invoice", invoice)).content.decode()
    assert url("invoice_edit", invoice) in draft and url("invoice_finalize", invoice) in draft
    assert url("invoice_payment", invoice) not in draft
    services.invoice_finalize(actor=actor(bob), invoice=invoice)
    final = bob_client.get(url("invoice", invoice)).content.decode()
    assert url("invoice_payment", invoice) in final and url("invoice_adjust", invoice) in final
    assert url("invoice_edit", invoice) not in final and url("invoice_void", invoice) in final
    services.invoice_void(actor=actor(bob), invoice=invoice, reason="Billed twice")
    void = bob_client.get(url("invoice", invoice)).content.decode()
    assert "Billed twice" in void
    for name in ("invoice_edit", "invoice_payment", "invoice_adjust", "invoice_void"):
        assert url(name, invoice) not in void


def test_opening_an_invoice_records_a_viewing(bob, bob_client, patient_a):
    invoice = make(bob, patient_a)
    bob_client.get(url("invoice", invoice))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_VIEWED).count() == 1


def test_void_needs_a_reason(bob, bob_client, patient_a):
    invoice = make(bob, patient_a, finalized=True)
    assert bob_client.get(url("invoice_void", invoice)).status_code == 200
    refused = bob_client.post(url("invoice_void", invoice), {"reason": "  "})
    assert refused.status_code == 400
    assert "Please say why the invoice is void." in refused.content.decode()
    invoice.refresh_from_db()
    assert invoice.is_finalized
    done = bob_client.post(url("invoice_void", invoice), {"reason": "Entered in error"})
    assert done.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.void_reason) == ("void", "Entered in error")
    assert bob_client.get(url("invoice_void", invoice)).status_code == 409


def test_a_payment_more_than_the_balance_is_refused_next_to_the_amount(bob, bob_client, patient_a):
    invoice = make(bob, patient_a, finalized=True)
    form = bob_client.get(url("invoice_payment", invoice)).content.decode()
    assert 'value="150.00"' in form  # the balance, by default
    for amount, says in (
        ("150.01", "That is more than the balance of $150.00."),
        ("0", "Please enter an amount greater than zero."),
        ("-5", "Please enter an amount in dollars, e.g. 45.00"),
    ):
        response = bob_client.post(
            url("invoice_payment", invoice),
            {"method": "check", "amount": amount, "reference": "1001", "submission": amount},
        )
        assert response.status_code == 400, amount
        html = response.content.decode()
        assert 'id="id_amount_error"' in html and says in html, amount
    assert not Payment.objects.exists()
    done = bob_client.post(
        url("invoice_payment", invoice),
        {"method": "check", "amount": "$100", "reference": "1001", "submission": "ok"},
    )
    assert done.status_code == 302
    payment = Payment.objects.get()
    assert (payment.method, payment.amount_cents, payment.reference) == ("check", 10_000, "1001")
    shown = bob_client.get(url("invoice", invoice)).content.decode()
    assert "Bob Front Desk" in shown and "$50.00" in shown


def test_a_payment_is_taken_once(bob, bob_client, patient_a):
    invoice = make(bob, patient_a, finalized=True)
    data = {"method": "cash", "amount": "20", "submission": "same"}
    bob_client.post(url("invoice_payment", invoice), data)
    bob_client.post(url("invoice_payment", invoice), data)
    assert Payment.objects.count() == 1


def test_a_draft_takes_no_payment_or_adjustment(bob, bob_client, patient_a):
    invoice = make(bob, patient_a)
    for name in ("invoice_payment", "invoice_adjust"):
        assert bob_client.get(url(name, invoice)).status_code == 409
    posted = bob_client.post(url("invoice_payment", invoice), {"method": "cash", "amount": "20"})
    assert posted.status_code == 409 and not Payment.objects.exists()


def test_an_adjustment_lowers_the_balance(bob, bob_client, patient_a):
    invoice = make(bob, patient_a, finalized=True)
    refused = bob_client.post(url("invoice_adjust", invoice), {"description": "", "amount": "10"})
    assert refused.status_code == 400 and not Adjustment.objects.exists()
    done = bob_client.post(
        url("invoice_adjust", invoice), {"description": "Courtesy discount", "amount": "25.50"}
    )
    assert done.status_code == 302
    assert Adjustment.objects.get().amount_cents == 2_550
    shown = bob_client.get(url("invoice", invoice)).content.decode()
    assert "Courtesy discount" in shown and "$124.50" in shown
    assert "<dt>Adjustments</dt><dd>-$25.50</dd>" in shown  # taken off, so with its minus


def test_markup_in_a_description_is_shown_as_text(bob, bob_client, patient_a):
    invoice = make(
        bob,
        patient_a,
        lines=[LineDraft(description="<script>alert(1)</script>", unit_price_cents=1)],
    )
    html = bob_client.get(url("invoice", invoice)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


INVOICE_ROUTES = (
    "invoice",
    "invoice_edit",
    "invoice_finalize",
    "invoice_void",
    "invoice_adjust",
    "invoice_payment",
)


@pytest.mark.parametrize("name", INVOICE_ROUTES)
def test_another_practice_gets_not_found_and_changes_nothing(bob, carol_client, patient_a, name):
    draft = make(bob, patient_a)
    final = make(bob, patient_a, finalized=True)
    before = (
        list(Invoice.objects.values_list("status", "provider")),
        InvoiceLine.objects.count(),
        Payment.objects.count(),
        Adjustment.objects.count(),
        AuditEvent.objects.count(),
    )
    for invoice in (draft, final):
        assert carol_client.get(url(name, invoice)).status_code in (404, 405)
        posted = carol_client.post(
            url(name, invoice),
            {
                "reason": "x",
                "method": "cash",
                "amount": "1",
                "description": "x",
                **new_invoice_post({"description": "x", "unit_price": "1"}),
            },
        )
        assert posted.status_code in (404, 405)  # 405: a GET-only page
    new = reverse("office:invoice_new", args=[patient_a.public_id])
    assert carol_client.get(new).status_code == 404
    assert (
        carol_client.post(
            new, new_invoice_post({"description": "x", "unit_price": "1"})
        ).status_code
        == 404
    )
    after = (
        list(Invoice.objects.values_list("status", "provider")),
        InvoiceLine.objects.count(),
        Payment.objects.count(),
        Adjustment.objects.count(),
        AuditEvent.objects.count(),
    )
    assert after == before


def _queries(client, target: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(target).status_code == 200
    return len(queries)


def test_the_billing_list_costs_the_same_for_3_or_30_invoices(
    bob, bob_client, patient_a, patient_b
):
    target = reverse("office:billing")
    for _ in range(3):
        make(bob, patient_a, finalized=True)
    _queries(bob_client, target)
    three = _queries(bob_client, target)
    for i in range(27):
        make(bob, patient_b if i % 2 else patient_a)
    assert _queries(bob_client, target) == three
    html = bob_client.get(target).content.decode()
    assert html.count("<tr>") == 25 + 1  # a page of 25, and the head
    assert "Page 1 of 2" in html and reverse("office:payments_day") in html


def test_the_patient_page_costs_the_same_for_1_or_12_invoices(bob, bob_client, patient_a):
    target = reverse("office:patient", args=[patient_a.public_id])
    make(bob, patient_a)
    _queries(bob_client, target)
    one = _queries(bob_client, target)
    for _ in range(11):
        make(bob, patient_a, finalized=True)
    assert _queries(bob_client, target) == one
    html = bob_client.get(target).content.decode()
    assert html.count(f"/patients/{patient_a.public_id}/invoices/") == 10 + 1  # and "New invoice"


def test_the_payments_list_costs_the_same_for_1_or_10_payments(bob, bob_client, patient_a):
    today = timezone.localdate()
    target = reverse("office:payments_day") + f"?day={today.isoformat()}"
    invoice = make(bob, patient_a, finalized=True)
    services.payment_record(actor=actor(bob), invoice=invoice, method="cash", amount_cents=100)
    _queries(bob_client, target)
    one = _queries(bob_client, target)
    for _ in range(9):
        other = make(bob, patient_a, finalized=True)
        services.payment_record(
            actor=actor(bob), invoice=other, method="check", amount_cents=250, reference="77"
        )
    assert _queries(bob_client, target) == one
    html = bob_client.get(target).content.decode()
    assert "$23.50" in html  # the day's total: 1.00 + 9 × 2.50
    assert f"?day={(today - datetime.timedelta(days=1)).isoformat()}" in html


def test_the_payments_list_of_another_day_and_a_bad_day(bob, bob_client, patient_a):
    invoice = make(bob, patient_a, finalized=True)
    services.payment_record(actor=actor(bob), invoice=invoice, method="cash", amount_cents=100)
    base = reverse("office:payments_day")
    other = bob_client.get(base + "?day=2020-01-01").content.decode()
    assert "No payments were received on this day." in other
    bad = bob_client.get(base + "?day=yesterday")
    assert bad.status_code == 200
    assert "That is not a date" in bad.content.decode() and "$1.00" in bad.content.decode()


def test_the_invoice_pages_are_under_billing_in_the_navigation(bob, bob_client, patient_a):
    invoice = make(bob, patient_a, finalized=True)
    for target in (
        reverse("office:billing"),
        reverse("office:payments_day"),
        reverse("office:invoice_new", args=[patient_a.public_id]),
        url("invoice", invoice),
        url("invoice_payment", invoice),
    ):
        assert bob_client.get(target).context["nav"] == "billing", target


def test_the_invoice_offers_print_options_and_email_portal_access(
    bob, bob_client, patient_a, issue_access, email_settings
):
    invoice = make(bob, patient_a, finalized=True)
    page = bob_client.get(url("invoice", invoice)).content.decode()
    assert url("invoice_print", invoice) in page
    assert "Email Portal Access" not in page  # no portal access yet: nothing to email
    issue_access(patient_a, "ada")
    page = bob_client.get(url("invoice", invoice)).content.decode()
    assert "Email Portal Access</button>" in page
    sent = bob_client.post(
        reverse("office:portal_access_email", args=[patient_a.public_id])
        + "?next="
        + url("invoice", invoice)
    )
    assert sent.status_code == 302 and sent["Location"] == url("invoice", invoice)
    from clinicportal.notifications.models import OutboxEmail

    assert OutboxEmail.objects.filter(kind="portal_access", to=patient_a.email).count() == 1
