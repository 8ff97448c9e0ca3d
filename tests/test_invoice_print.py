"""Printing an invoice: View/Print Options, the portal block, the PDF, and Admin → Invoices."""

from __future__ import annotations

import datetime
import io
import os
import re
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader

from clinicportal.audit.models import AuditEvent
from clinicportal.billing import services
from clinicportal.billing.models import Invoice, InvoiceSettings
from clinicportal.billing.printing import PrintOptions, fill_portal_text, portal_block
from clinicportal.billing.selectors import invoice_settings_for
from clinicportal.billing.services import LineDraft
from tests.conftest import actor

DAY = datetime.date(2026, 11, 20)
EXAM = LineDraft(
    description="Comprehensive eye exam",
    unit_price_cents=15_000,
    service_code="92004",
    diagnosis_codes="H40.11; H52.4",
)
DROPS = LineDraft(description="Artificial tears", unit_price_cents=1_250, quantity=2)
BASE = "https://portal.example.test"


@pytest.fixture(autouse=True)
def _base_url(settings) -> None:
    settings.CLINICPORTAL_BASE_URL = BASE


def make(alice, patient, lines=(EXAM, DROPS)) -> Invoice:
    invoice = services.invoice_create(
        actor=actor(alice), patient=patient, invoice_date=DAY, provider="Dr. Chen", lines=lines
    )
    services.invoice_finalize(actor=actor(alice), invoice=invoice)
    return invoice


def print_url(invoice: Invoice) -> str:
    return reverse("office:invoice_print", args=[invoice.patient.public_id, invoice.public_id])


def pdf_url(invoice: Invoice) -> str:
    return reverse("office:invoice_pdf", args=[invoice.patient.public_id, invoice.public_id])


def pdf_text(response) -> str:
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    shots = os.environ.get("SCREENSHOT_DIR")
    if shots:
        Path(shots, "last-invoice.pdf").write_bytes(content)
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    return " ".join(text.split())


# --- the portal block --------------------------------------------------------------------


def test_portal_text_fills_only_its_two_names_and_leaves_anything_else_as_typed():
    text = "See {portal_url} as {username}; {x} {0} { {username.__class__} {username:>99}"
    assert fill_portal_text(text, portal_url="https://p/", username="ada1") == (
        "See https://p/ as ada1; {x} {0} { {username.__class__} {username:>99}"
    )


def test_portal_block_is_none_without_portal_access(patient_a):
    assert portal_block(patient_a.practice, patient_a) is None


def test_portal_block_names_the_address_and_the_username_never_the_password(
    alice, patient_a, issue_access
):
    username, password = issue_access(patient_a)
    services.invoice_settings_save(
        actor=actor(alice),
        portal_info="Go to {portal_url} and sign in as {username} (password: {password}).",
        include_portal_info=False,
    )
    block = portal_block(patient_a.practice, patient_a)
    assert block == (
        f"Go to {BASE}/p/clinic-x/ and sign in as {username} (password: {{password}})."
    )
    assert password not in block


# --- the options --------------------------------------------------------------------------


def test_options_default_to_column_view_and_the_practice_choice_of_portal_info():
    assert PrintOptions.from_query({}, include_portal_info=True) == PrintOptions(portal_info=True)
    # Once the form is sent, an unchecked box is unchecked.
    assert not PrintOptions.from_query({"view": "row"}, include_portal_info=True).portal_info
    assert PrintOptions.from_query({"view": "bogus"}, include_portal_info=False).view == "column"


# --- the page and the PDF -----------------------------------------------------------------


def test_portal_info_prints_the_url_and_username_and_never_the_password(
    alice_client, alice, patient_a, issue_access
):
    username, password = issue_access(patient_a)
    invoice = make(alice, patient_a)

    page = alice_client.get(print_url(invoice), {"view": "column", "portal_info": "1"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Your patient portal" in html
    assert f"{BASE}/p/clinic-x/" in html and username in html
    assert password not in html
    assert "has no portal access" not in html

    text = squash(
        pdf_text(alice_client.get(pdf_url(invoice), {"view": "column", "portal_info": "1"}))
    )
    assert "Your patient portal" in text
    assert f"{BASE}/p/clinic-x/" in text.replace(" ", "")
    assert username in text
    assert password not in text.replace(" ", "")

    without = squash(pdf_text(alice_client.get(pdf_url(invoice), {"view": "column"})))
    assert "Your patient portal" not in without and username not in without
    assert (
        "Your patient portal"
        not in alice_client.get(print_url(invoice), {"view": "column"}).content.decode()
    )


def test_include_portal_info_pre_checks_portal_info(alice_client, alice, patient_a, issue_access):
    issue_access(patient_a)
    invoice = make(alice, patient_a)
    html = alice_client.get(print_url(invoice)).content.decode()
    assert 'id="portal-info" checked' not in html and "Your patient portal" not in html

    services.invoice_settings_save(actor=actor(alice), portal_info="", include_portal_info=True)
    html = alice_client.get(print_url(invoice)).content.decode()
    assert 'id="portal-info" checked' in html
    assert "Your patient portal" in html  # blank text: the standard wording
    assert "portal_info=1" in html  # the PDF link carries it
    text = squash(pdf_text(alice_client.get(pdf_url(invoice))))
    assert "Your patient portal" in text


def test_no_portal_access_warns_offers_set_up_and_prints_no_block(alice_client, alice, patient_a):
    invoice = make(alice, patient_a)
    page = alice_client.get(print_url(invoice), {"view": "column", "portal_info": "1"})
    html = page.content.decode()
    assert "Ada has no portal access, so the portal information will not be included." in html
    assert reverse("office:portal_access", args=[patient_a.public_id]) + "?next=" in html
    assert "Your patient portal" not in html
    assert "Email Portal Access" not in html  # the service would refuse it
    text = squash(
        pdf_text(alice_client.get(pdf_url(invoice), {"view": "column", "portal_info": "1"}))
    )
    assert "Your patient portal" not in text


def test_hide_diag_removes_the_codes_and_their_header(alice_client, alice, patient_a):
    invoice = make(alice, patient_a)
    for view in ("column", "row"):
        shown = alice_client.get(print_url(invoice), {"view": view}).content.decode()
        preview = shown.split('class="invoice-preview"')[1]
        assert "H40.11" in preview and "Diagnosis" in preview
        hidden = alice_client.get(print_url(invoice), {"view": view, "hide_diag": "1"})
        preview = hidden.content.decode().split('class="invoice-preview"')[1]
        assert "H40.11" not in preview and "Diagnosis" not in preview
        text = pdf_text(alice_client.get(pdf_url(invoice), {"view": view, "hide_diag": "1"}))
        assert "H40.11" not in text and "Diagnosis" not in text
        assert "Comprehensive eye exam" in squash(text)


def test_row_view_stacks_each_line_and_column_view_has_one_header(alice_client, alice, patient_a):
    invoice = make(alice, patient_a)
    column = pdf_text(alice_client.get(pdf_url(invoice), {"view": "column"}))
    row = pdf_text(alice_client.get(pdf_url(invoice), {"view": "row"}))
    # Column View: the labels once, as the header; the lines below them.
    assert squash(column).count("Unit price") == 1
    assert "Code Description Diagnosis Qty Unit price Amount" in squash(column)
    assert "Line 1" not in column
    # Row View: each line under its heading, as "Label: value" pairs.
    assert squash(row).count("Unit price") == 2
    assert "Line 1" in row and "Line 2" in row
    assert "Code: 92004 Description: Comprehensive eye exam Diagnosis: H40.11, H52.4" in squash(row)
    assert "Qty: 1 Unit price: $150.00 Amount: $150.00" in squash(row)
    assert "Qty: 2 Unit price: $12.50 Amount: $25.00" in squash(row)


def test_row_view_prints_each_line_as_one_run_of_text(alice_client, alice, patient_a):
    """One text run a line: WeasyPrint lays out a box per label and value slowly (issue 13)."""
    invoice = make(alice, patient_a)
    html = alice_client.get(print_url(invoice), {"view": "row"}).content.decode()
    lines = re.findall(r'<section class="invoice-line".*?</section>', html, re.S)
    assert len(lines) == 2
    for line in lines:
        paragraph = re.search(r"<p>(.*?)</p>", line, re.S)
        assert paragraph is not None and "<" not in paragraph[1]
    # A label is never broken from its value, nor "Unit price" in two.
    assert "Unit\u00a0price:\u00a0$150.00" in lines[0]
    assert "Description:\u00a0Comprehensive eye exam" in lines[0]


@pytest.mark.parametrize("view", ["column", "row", "custom"])
def test_each_view_prints_without_a_warning_in_the_log(
    alice_client, alice, patient_a, caplog, view
):
    """WeasyPrint warned twice a PDF about the phone preview's width query (issue 13)."""
    invoice = make(alice, patient_a)
    with caplog.at_level("WARNING", logger="weasyprint"):
        answer = alice_client.get(pdf_url(invoice), {"view": view, "columns": "code"})
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF-")
    assert [record.getMessage() for record in caplog.records if record.name == "weasyprint"] == []


def test_custom_view_keeps_only_the_chosen_columns(alice_client, alice, patient_a):
    invoice = make(alice, patient_a)
    query = {"view": "custom", "columns": ["description", "amount"]}
    text = squash(pdf_text(alice_client.get(pdf_url(invoice), query)))
    assert "Description Amount" in text
    for gone in ("Code", "Diagnosis", "Qty", "Unit price", "92004", "H40.11", "$12.50"):
        assert gone not in text
    assert "Comprehensive eye exam $150.00" in text and "$25.00" in text
    html = alice_client.get(print_url(invoice), query).content.decode()
    assert 'id="column-amount" checked' in html and 'id="column-code" checked' not in html
    assert "columns=description&amp;columns=amount" in html  # the PDF link
    # Nothing chosen: all the columns, and a word about it.
    empty = alice_client.get(print_url(invoice), {"view": "custom"}).content.decode()
    assert "No column was chosen" in empty and "92004" in empty


def test_markup_in_a_line_prints_as_text(alice_client, alice, patient_a):
    evil = '<script>alert("x")</script><img src="https://attacker.example/x.png">'
    invoice = make(alice, patient_a, lines=[LineDraft(description=evil, unit_price_cents=100)])
    html = alice_client.get(print_url(invoice)).content.decode()
    assert "<script>alert" not in html and '<img src="https' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    for view in ("column", "row"):
        # Without the spaces: the description wraps where its column ends.
        text = "".join(pdf_text(alice_client.get(pdf_url(invoice), {"view": view})).split())
        assert '<script>alert("x")</script><imgsrc="https://attacker.example/x.png">' in text


def test_the_pdf_fetches_nothing_from_the_network():
    """The fetcher refuses every scheme but data:, so not even a stray <img> is loaded."""
    import socket

    from weasyprint import HTML

    from clinicportal.core.pdf import no_fetching

    fetcher = no_fetching()
    for url in ("https://attacker.example/x.png", "file:///etc/passwd", "ftp://a.example/x"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher(url)
    assert fetcher("data:text/plain,hi").read() == b"hi"

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        markup = f'<img src="http://127.0.0.1:{port}/x.png"><link rel=stylesheet href="http://127.0.0.1:{port}/s.css">'
        HTML(string=markup, base_url=None, url_fetcher=no_fetching()).write_pdf()
        with pytest.raises(TimeoutError):
            listener.accept()


def test_pdf_answer_is_a_download_never_stored_and_is_recorded(alice_client, alice, patient_a):
    invoice = make(alice, patient_a)
    response = alice_client.get(pdf_url(invoice))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Invoice 1 - Ada Lovelace.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF")
    printed = AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_PRINTED)
    assert printed.count() == 1 and printed.get().patient == patient_a
    alice_client.get(print_url(invoice))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_VIEWED).count() == 1


def test_another_practice_gets_404_for_the_page_and_the_pdf(carol_client, alice, patient_a):
    invoice = make(alice, patient_a)
    assert carol_client.get(print_url(invoice)).status_code == 404
    assert carol_client.get(pdf_url(invoice)).status_code == 404
    assert not AuditEvent.objects.filter(
        action__in=[AuditEvent.Action.INVOICE_PRINTED, AuditEvent.Action.INVOICE_VIEWED]
    ).exists()


def test_another_patients_invoice_is_404_under_this_patient(
    alice_client, alice, patient_a, patient_b
):
    invoice = make(alice, patient_a)
    url = reverse("office:invoice_pdf", args=[patient_b.public_id, invoice.public_id])
    assert alice_client.get(url).status_code == 404


def test_email_portal_access_from_the_print_page_comes_back_to_it(
    alice_client, alice, patient_a, issue_access
):
    from clinicportal.notifications.models import OutboxEmail

    issue_access(patient_a)
    invoice = make(alice, patient_a)
    back = print_url(invoice) + "?view=row&portal_info=1"
    html = alice_client.get(back).content.decode()
    assert "Email Portal Access" in html
    url = reverse("office:portal_access_email", args=[patient_a.public_id])
    response = alice_client.post(url + "?next=" + back.replace("?", "%3F").replace("&", "%26"))
    assert response.status_code == 302 and response["Location"] == back
    assert OutboxEmail.objects.filter(to=patient_a.email).count() == 1
    # A next outside the office is ignored: back to the Online Portal.
    response = alice_client.post(url + "?next=https://attacker.example/")
    assert response["Location"].endswith("#online-portal")


# --- Admin → Invoices ---------------------------------------------------------------------


def test_admin_saves_the_invoice_settings(alice_client, alice):
    url = reverse("office:settings_invoices")
    page = alice_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "{portal_url}" in html and "{username}" in html and "never" in html
    assert reverse("office:settings_invoices") in html  # in the Admin menu
    response = alice_client.post(
        url,
        {
            "portal_info": "  Bills online: {portal_url}\r\nUser: {username}  ",
            "include_portal_info": "on",
        },
    )
    assert response.status_code == 302
    config = invoice_settings_for(alice.practice)
    assert config.portal_info == "Bills online: {portal_url}\nUser: {username}"
    assert config.include_portal_info
    assert AuditEvent.objects.filter(action=AuditEvent.Action.INVOICE_SETTINGS_CHANGED).count() == 1
    alice_client.post(url, {"portal_info": "x"})
    assert not invoice_settings_for(alice.practice).include_portal_info


def test_too_long_portal_text_is_refused_and_nothing_is_saved(alice_client, alice):
    response = alice_client.post(
        reverse("office:settings_invoices"),
        {"portal_info": "x" * 1001, "include_portal_info": "on"},
    )
    assert response.status_code == 400
    assert "at most 1000 characters" in response.content.decode()
    assert not InvoiceSettings.objects.exists()


def test_staff_who_are_not_admins_get_403(bob_client):
    url = reverse("office:settings_invoices")
    assert bob_client.get(url).status_code == 403
    assert (
        bob_client.post(url, {"portal_info": "x", "include_portal_info": "on"}).status_code == 403
    )
    assert not InvoiceSettings.objects.exists()


def test_a_render_pauses_the_cycle_collector_and_gives_it_back():
    import gc

    from clinicportal.core.pdf import gc_paused, pdf_from_html

    seen = []
    with gc_paused():
        seen.append(gc.isenabled())
    assert seen == [False] and gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError  # a failed render gives it back too
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # one that was off stays off
    finally:
        gc.enable()
    assert pdf_from_html("<p>x</p>").startswith(b"%PDF-") and gc.isenabled()
