"""Benchmark: an invoice of 40 lines as a PDF, and the office's billing lists at 10 000 invoices.

    .venv/bin/python bench/invoices.py [--rebuild] [--only pdf|lists|portal] [--rounds N]
    .venv/bin/python bench/invoices.py --small      # a smoke run on a throwaway SQLite file

On PostgreSQL (BENCH_DATABASE_URL, created if missing; default `clinicportal_bench`), a practice
of its own ("bench-invoices") gets --patients patients and --invoices invoices over a year, with
their lines and payments (bench/invoices_data.py, by COPY: seconds). Later runs reuse that data
set (and say so) until its sizes change, or --rebuild. Then, as the practice's admin:

- pdf: billing.printing.invoice_pdf of the 40-line invoice, Portal Info on, in Column View, in
  Row View and in Custom View (code, description, amount) (the invoice read once, as the view
  reads it; the timing is the rendering), and the office's PDF download (office:invoice_pdf,
  through the test Client) around it;
- lists: the day's payments (office:payments_day) on the busy day and on the quiet one, and
  Billing (office:billing) on its first and its last page, through the test Client;
- portal: the patient's PAY BILLS page (portal:bills), for a patient with --bills invoices,
  signed in to the portal: its first page, and the last page of its invoices and of its
  payments, each by the page's own link (a list of one page has none: its first is its last).

Goals: the PDF's p95 < 500 ms in each view; one query count on a busy day as on a quiet one,
on Billing's last page as on its first, and on PAY BILLS' last pages as on its first. The
lists' timings are printed, not judged. Writes bench/results/invoices.json; exits 1 when a goal
is missed.
"""

from __future__ import annotations

import argparse
import math
import sys
import urllib.parse
from typing import TYPE_CHECKING, Any

from common import report, run_sized
from invoices_data import (
    BUSY_DAY,
    PDF_LINES,
    PORTAL_PASSWORD,
    PORTAL_USERNAME,
    QUIET_DAY,
    DataSet,
    Sizes,
    ensure,
)
from messages import Links, Timing, measure, verdict

if TYPE_CHECKING:
    from clinicportal.billing.printing import View

GOAL_PDF_P95_MS = 500.0
PDF_VIEWS: tuple[View, ...] = ("column", "row", "custom")
CUSTOM_COLUMNS = ("code", "description", "amount")  # Custom View: a usual short choice
PARTS = ("pdf", "lists", "portal")
SMALL = {"invoices": 300, "patients": 60, "bills": 30, "rounds": 3}


def line(timing: Timing, ok: bool | None) -> str:
    mark = "" if ok is None else f"  {verdict(ok)}"
    return (
        f"  {timing.name:<46} p50 {timing.p50:7.2f} ms  p95 {timing.p95:7.2f} ms  "
        f"(cpu p50 {timing.cpu_p50:7.2f} ms)  {timing.queries:>2} queries{mark}"
    )


# The PDF --------------------------------------------------------------------------------------


def measure_pdf(data: DataSet, rounds: int) -> tuple[list[Timing], dict[str, Any]]:
    from django.test import Client
    from django.urls import reverse

    from clinicportal.billing import printing
    from clinicportal.billing.selectors import invoice_detail, invoice_get
    from clinicportal.core.context import StaffActor

    actor = StaffActor(user=data.admin.user, staff=data.admin, ip="127.0.0.1", user_agent="bench")
    invoice = invoice_get(actor=actor, patient=data.patient, public_id=data.pdf_invoice.public_id)
    invoice.patient = data.patient
    detail = invoice_detail(actor=actor, invoice=invoice)
    portal_text = printing.portal_block(actor.practice, data.patient)
    made: dict[str, Any] = {"lines": len(detail.lines), "portal_text": portal_text is not None}
    measured = []
    for view in PDF_VIEWS:
        columns = CUSTOM_COLUMNS if view == "custom" else printing.COLUMNS
        options = printing.PrintOptions(view=view, columns=columns, portal_info=True)

        def render(options: printing.PrintOptions = options) -> bytes:
            return printing.invoice_pdf(
                detail, options, practice=actor.practice, patient=data.patient,
                portal_text=portal_text,
            )  # fmt: skip

        pdf = render()
        made[view] = {"bytes": len(pdf), "is_pdf": pdf.startswith(b"%PDF-")}
        measured.append(measure(f"pdf {view} view, {len(detail.lines)} lines", render, rounds))
    client = Client()
    client.force_login(data.admin.user)
    path = reverse("office:invoice_pdf", args=[data.patient.public_id, invoice.public_id])

    def download() -> None:
        answer = client.get(path, {"view": "column", "portal_info": "1"})
        assert answer.status_code == 200 and answer.content.startswith(b"%PDF-"), path

    measured.append(measure("office:invoice_pdf column view", download, rounds))
    return measured, made


# The office's lists ---------------------------------------------------------------------------


def measure_lists(data: DataSet, rounds: int) -> tuple[list[Timing], list[Timing]]:
    """(payments busy and quiet day, Billing first and last page)."""
    from django.test import Client
    from django.urls import reverse

    from clinicportal.billing.models import Invoice
    from clinicportal.office.views.invoices import INVOICES_PER_PAGE

    client = Client()
    client.force_login(data.admin.user)

    def get(path: str, query: dict[str, str], expect: str) -> Any:
        def call() -> None:
            answer = client.get(path, query)
            assert answer.status_code == 200, (path, query, answer.status_code)

        answer = client.get(path, query)
        assert answer.status_code == 200, (path, query, answer.status_code)
        assert expect in answer.content.decode(), f"{path} {query} does not show {expect!r}"
        return call

    payments = reverse("office:payments_day")
    days = []
    for label, day in (("busy", BUSY_DAY), ("quiet", QUIET_DAY)):
        count = data.counts[f"{label}_day_payments"]
        call = get(payments, {"day": day.isoformat()}, "Total for the day")
        days.append(measure(f"payments_day {label} day ({count} payments)", call, rounds))

    billing = reverse("office:billing")
    invoices = Invoice.objects.filter(practice=data.practice)
    last = math.ceil(invoices.count() / INVOICES_PER_PAGE)
    oldest = invoices.order_by("invoice_date", "number").first()
    newest = invoices.first()
    assert oldest is not None and newest is not None
    pages = []
    for label, number, shown in (("first", 1, newest), ("last", last, oldest)):
        call = get(billing, {"page": str(number)}, f"#{shown.number}<")
        pages.append(measure(f"billing {label} page (page {number})", call, rounds))
    return days, pages


# The portal's PAY BILLS -----------------------------------------------------------------------


def last_page_link(page: str, path: str, name: str) -> str | None:
    """The page's own link to the last page of its list ``name`` (``name=last``), if any."""
    from clinicportal.core.keyset import LAST

    links = Links()
    links.feed(page)
    for href in links.hrefs:
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(path, href))
        if parts.path == path and dict(urllib.parse.parse_qsl(parts.query)).get(name) == LAST:
            return f"{parts.path}?{parts.query}"
    return None


def measure_portal(data: DataSet, rounds: int) -> tuple[list[Timing], str]:
    """PAY BILLS' first page, and the last page of its invoices and of its payments."""
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from clinicportal.accounts.models import LoginFailure
    from clinicportal.billing.models import Invoice, Payment, PaymentSettings
    from clinicportal.practices.models import Practice

    slug = data.practice.slug
    try:
        path = reverse("portal:bills", kwargs={"practice_slug": slug})
    except NoReverseMatch:
        return [], "portal:bills is not built yet"
    # PAY BILLS shows only where the practice has it on, with a processor to pay through.
    Practice.objects.filter(pk=data.practice.pk).update(pay_bills_enabled=True)
    PaymentSettings.objects.update_or_create(
        practice=data.practice,
        defaults={"processor": PaymentSettings.Processor.TEST, "webhook_secret": "bench-secret"},
    )
    LoginFailure.objects.all().delete()
    client = Client()
    signed_in = client.post(
        reverse("portal:login", kwargs={"practice_slug": slug}),
        {"username": PORTAL_USERNAME, "password": PORTAL_PASSWORD},
    )
    if not client.session.get("portal.account"):
        return [], f"the portal sign-in did not succeed ({signed_in.status_code})"
    answer = client.get(path)
    if answer.status_code != 200:
        return [], f"portal:bills answered {answer.status_code}"
    page = answer.content.decode()

    invoices = Invoice.objects.filter(patient=data.patient, status=Invoice.Status.FINALIZED)
    newest = invoices.order_by("-invoice_date", "-number").first()
    oldest = invoices.order_by("invoice_date", "number").first()
    assert newest is not None and oldest is not None
    if f"Invoice #{newest.number}</h3>" not in page:
        return [], "portal:bills does not list the newest invoice first"
    payments = Payment.objects.filter(patient=data.patient).count()
    pages = {"first page": path}
    for name in ("invoices", "payments"):
        pages[f"{name}' last page"] = last_page_link(page, path, name) or path
    last = client.get(pages["invoices' last page"]).content.decode()
    if f"Invoice #{oldest.number}</h3>" not in last:
        return [], "the invoices' last page of portal:bills does not show the oldest invoice"

    measured = []
    for label, url in pages.items():

        def call(url: str = url) -> None:
            assert client.get(url).status_code == 200, url

        measured.append(measure(f"portal:bills {label}", call, rounds))
    return measured, f"measured ({invoices.count()} invoices, {payments} payments)"


# The report -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--patients", type=int, default=2_000)
    parser.add_argument("--bills", type=int, default=200, help="the portal patient's invoices")
    parser.add_argument("--rounds", type=int, default=30, help="timed calls each")
    parser.add_argument("--only", action="append", choices=PARTS, help="measure only this part")
    parser.add_argument("--rebuild", action="store_true", help="make the data set again")
    parser.add_argument(
        "--small", action="store_true", help="a smoke run: small sizes, a throwaway SQLite file"
    )
    args = parser.parse_args()
    return run_sized(parser, args, small=SMALL, prefix="bench-invoices-", run=run)


def run(args: argparse.Namespace) -> int:
    from django.db import connection

    parts = set(args.only or PARTS)
    sizes = Sizes(invoices=args.invoices, patients=args.patients, bills=args.bills)
    data = ensure(sizes, rebuild=args.rebuild)
    if data.reused:
        print(f"reusing the data set in the database ({sizes.label}); --rebuild makes it again")
    else:
        print(f"built the data set ({sizes.label}) in {data.seconds:.1f} s")
    print(f"  {data.counts}")

    pdfs, made = measure_pdf(data, args.rounds) if "pdf" in parts else ([], {})
    days, pages = measure_lists(data, args.rounds) if "lists" in parts else ([], [])
    bills, bills_note = (
        measure_portal(data, args.rounds) if "portal" in parts else ([], "not asked")
    )

    goals: dict[str, bool] = {}
    renders = [t for t in pdfs if t.name.startswith("pdf ")]
    if pdfs:
        goals["pdf_p95"] = all(t.p95 < GOAL_PDF_P95_MS for t in renders)
        goals["pdf_made"] = all(made[v]["is_pdf"] for v in PDF_VIEWS)
        goals["pdf_lines"] = made["lines"] == PDF_LINES
    if days:
        goals["payments_day_same_queries"] = len({t.queries for t in days}) == 1
        goals["billing_same_queries"] = len({t.queries for t in pages}) == 1
    if bills:
        goals["portal_bills_same_queries"] = len({t.queries for t in bills}) == 1

    if pdfs:
        print(f"\ninvoice PDF ({made['lines']} lines, Portal Info on; goal p95 < 500 ms):")
        for timing in pdfs:
            ok = timing.p95 < GOAL_PDF_P95_MS if timing in renders else None
            print(line(timing, ok))
        for view in PDF_VIEWS:
            print(f"  {view} view: {made[view]['bytes']} bytes")
    if days:
        print("\noffice lists (goal: one query count on each list):")
        for group in (days, pages):
            for timing in group:
                print(line(timing, len({t.queries for t in group}) == 1))
    if "portal" in parts:
        print(f"\nPAY BILLS (portal:bills; goal: one query count on each page): {bills_note}")
        for timing in bills:
            print(line(timing, len({t.queries for t in bills}) == 1))
    print()
    for goal, ok in goals.items():
        print(f"{verdict(ok)}  {goal}")

    result = {
        "benchmark": "invoice PDF and the billing lists at 10 000 invoices",
        "database": connection.vendor,
        "data_set": sizes.label,
        "data_set_reused": data.reused,
        "data_set_build_seconds": round(data.seconds, 1),
        "data_set_counts": data.counts,
        "rounds": args.rounds,
        "pdf": {"made": made, **{t.name: t.result() for t in pdfs}},
        "payments_day": {t.name: t.result() for t in days},
        "billing": {t.name: t.result() for t in pages},
        "portal_bills": {"note": bills_note, **{t.name: t.result() for t in bills}},
        "goal_pdf_p95_ms": GOAL_PDF_P95_MS,
        "goals": goals,
        "met": all(goals.values()),
    }
    report("invoices_small" if args.small else "invoices", result)
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
