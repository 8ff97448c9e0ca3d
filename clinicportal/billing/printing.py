"""Print an invoice: the View/Print Options, the portal block, and the HTML and PDF of it.

The page's preview and the PDF render the same template (``billing/invoice_print.html``) with
the same stylesheet, so what staff see is what prints. The PDF is made by WeasyPrint without
touching the network: its fetcher refuses every address but ``data:``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from clinicportal.accounts.selectors import patient_portal_username
from clinicportal.billing.models import DEFAULT_PORTAL_INFO, InvoiceLine
from clinicportal.billing.selectors import InvoiceDetail, invoice_settings_for, totals
from clinicportal.core.http import absolute_url
from clinicportal.core.money import dollars
from clinicportal.core.pdf import pdf_from_html
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice

View = Literal["column", "row", "custom"]
VIEWS: tuple[View, ...] = ("column", "row", "custom")

COLUMNS = ("code", "description", "diag", "qty", "unit_price", "amount")
COLUMN_LABELS = {
    "code": _("Code"),
    "description": _("Description"),
    "diag": _("Diagnosis"),
    "qty": _("Qty"),
    "unit_price": _("Unit price"),
    "amount": _("Amount"),
}
NUMERIC = frozenset({"qty", "unit_price", "amount"})

STYLESHEET = Path(__file__).resolve().parent / "static" / "billing" / "invoice.css"


@dataclass(frozen=True)
class PrintOptions:
    """How to print an invoice: Column, Row or Custom View, Hide Diag and Portal Info."""

    view: View = "column"
    columns: tuple[str, ...] = COLUMNS  # chosen for Custom View; the others show all
    hide_diag: bool = False
    portal_info: bool = False
    custom_was_empty: bool = field(default=False, compare=False)

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, include_portal_info: bool) -> PrintOptions:
        """Read the options form's GET parameters; before it is sent, the defaults.

        A checkbox left empty sends nothing, so once the form is sent (``view`` is in the
        query) Portal Info is what was checked; before that it is the practice's default.
        """
        getlist = getattr(query, "getlist", None)
        chosen: Sequence[str] = getlist("columns") if getlist else [query.get("columns", "")]
        sent = "view" in query
        view = query.get("view", "column")
        if view not in VIEWS:
            view = "column"
        columns = tuple(name for name in COLUMNS if name in chosen)
        empty = view == "custom" and not columns
        return cls(
            view=view,  # type: ignore[arg-type]  # checked against VIEWS above
            columns=columns if view == "custom" and columns else COLUMNS,
            hide_diag=sent and query.get("hide_diag") == "1",
            portal_info=(query.get("portal_info") == "1") if sent else include_portal_info,
            custom_was_empty=empty,
        )

    @property
    def shown(self) -> tuple[str, ...]:
        """The columns (or the rows, in Row View) that print, in their order."""
        return tuple(name for name in self.columns if not (self.hide_diag and name == "diag"))

    def query(self) -> str:
        """The same options as a query string (for the PDF link)."""
        pairs: list[tuple[str, str]] = [("view", self.view)]
        if self.view == "custom":
            pairs += [("columns", name) for name in self.columns]
        if self.hide_diag:
            pairs.append(("hide_diag", "1"))
        if self.portal_info:
            pairs.append(("portal_info", "1"))
        return urlencode(pairs)


_PLACEHOLDER = re.compile(r"\{(portal_url|username)\}")


def fill_portal_text(text: str, *, portal_url: str, username: str) -> str:
    """Fill {portal_url} and {username} into the admin's text; leave anything else as typed.

    Not str.format: the admin's text may hold "{x}", a lone "{", "{0}" or
    "{username.__class__}", and none of those may fail, look anything up or print more.
    """
    values = {"portal_url": portal_url, "username": username}
    return _PLACEHOLDER.sub(lambda match: values[match[1]], text)


def portal_block(practice: Practice, patient: Patient) -> str | None:
    """The practice's portal information for this patient; None without portal access.

    Only the portal address and the patient's own username are filled in: never a password.
    """
    username = patient_portal_username(practice=practice, patient=patient)
    if username is None:
        return None
    text = invoice_settings_for(practice).portal_info.strip() or str(DEFAULT_PORTAL_INFO)
    return fill_portal_text(
        text, portal_url=absolute_url(practice.portal_path()), username=username
    )


NBSP = "\u00a0"


@dataclass(frozen=True)
class Cell:
    name: str
    label: str
    value: str
    numeric: bool

    @property
    def pair(self) -> str:
        """The cell as Row View prints it, "Label: value", breakable only inside the value.

        Row View prints each line as one run of text: as separate boxes for each label and
        value, forty lines took WeasyPrint most of the PDF's time to lay out.
        """
        pattern = str(_("%(label)s: %(value)s")).replace(" ", NBSP)
        return pattern % {"label": self.label.replace(" ", NBSP), "value": self.value}


def _value(line: InvoiceLine, name: str) -> str:
    match name:
        case "code":
            return line.service_code
        case "description":
            return line.description
        case "diag":
            return line.diagnosis_codes
        case "qty":
            return str(line.quantity)
        case "unit_price":
            return dollars(line.unit_price_cents)
        case _:
            return dollars(line.amount_cents)


def _context(
    detail: InvoiceDetail,
    options: PrintOptions,
    *,
    practice: Practice,
    patient: Patient,
    portal_text: str | None,
) -> dict[str, object]:
    shown = options.shown
    sums = totals(detail.invoice)
    return {
        "invoice": detail.invoice,
        "practice": practice,
        "patient": patient,
        "options": options,
        "columns": [Cell(name, str(COLUMN_LABELS[name]), "", name in NUMERIC) for name in shown],
        "rows": [
            [
                Cell(name, str(COLUMN_LABELS[name]), _value(line, name), name in NUMERIC)
                for name in shown
            ]
            for line in detail.lines
        ],
        "totals": sums,
        "charges": dollars(sums.charges),
        "adjustments": dollars(-sums.adjustments),  # taken off: shown with their minus
        "payments": dollars(-sums.payments),
        "balance": dollars(sums.balance),
        "portal_text": portal_text if options.portal_info else None,
    }


def invoice_html(
    detail: InvoiceDetail,
    options: PrintOptions,
    *,
    practice: Practice,
    patient: Patient,
    portal_text: str | None,
) -> str:
    """The invoice as the options say, as an HTML fragment (the page's preview)."""
    context = _context(detail, options, practice=practice, patient=patient, portal_text=portal_text)
    return render_to_string("billing/invoice_print.html", context)


def invoice_pdf(
    detail: InvoiceDetail,
    options: PrintOptions,
    *,
    practice: Practice,
    patient: Patient,
    portal_text: str | None,
) -> bytes:
    """The same invoice as a PDF (Letter), rendered from the same HTML and stylesheet."""
    fragment = invoice_html(
        detail, options, practice=practice, patient=patient, portal_text=portal_text
    )
    document = render_to_string(
        "billing/invoice_document.html",
        {
            "invoice": detail.invoice,
            "fragment": fragment,
            "stylesheet": STYLESHEET.read_text(encoding="utf-8"),
        },
    )
    return pdf_from_html(document)
