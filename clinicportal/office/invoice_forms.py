"""The office's invoice forms: the invoice and its lines, voiding, adjustments and payments.

Amounts are typed in dollars ("45", "$1,234.50") and handed to the services in integer cents.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicportal.billing.models import Payment
from clinicportal.billing.services import LineDraft
from clinicportal.core.forms import OneTimeKeyField
from clinicportal.core.money import NotAnAmount, cents_from_text

NOT_AN_AMOUNT = _("Please enter an amount in dollars, e.g. 45.00")
BLANK_LINES = 5  # rows offered on a new invoice; an edited one gets EDIT_BLANK_LINES more
EDIT_BLANK_LINES = 3
MAX_LINES = 50


class DollarsField(forms.CharField):
    """An amount typed in dollars; cleaned to integer cents."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        if text in self.empty_values:
            return None
        try:
            return cents_from_text(text)
        except NotAnAmount:
            raise ValidationError(NOT_AN_AMOUNT, code="amount") from None


class InvoiceForm(forms.Form):
    invoice_date = forms.DateField(
        label=_("Date"), initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    provider = forms.CharField(label=_("Provider"), max_length=150)


class LineForm(forms.Form):
    service_code = forms.CharField(label=_("Service code"), max_length=20, required=False)
    description = forms.CharField(label=_("Description"), max_length=200)
    diagnosis_codes = forms.CharField(label=_("Diagnosis codes"), max_length=100, required=False)
    quantity = forms.IntegerField(
        label=_("Quantity"), min_value=1, max_value=9999, initial=1, required=False
    )
    unit_price = DollarsField(label=_("Unit price"))

    def draft(self) -> LineDraft:
        data = self.cleaned_data
        return LineDraft(
            description=data["description"],
            unit_price_cents=data["unit_price"],
            quantity=data["quantity"] or 1,
            service_code=data["service_code"],
            diagnosis_codes=data["diagnosis_codes"],
        )


class BaseLineFormSet(BaseFormSet[LineForm]):
    """Every row may be left blank (and is then left out), an invoice's own lines too.

    An edited invoice's lines are shown as the first rows' initial values, but every row is
    posted as a new one: clearing a row removes that line, and the service replaces them all.
    """

    def initial_form_count(self) -> int:
        return 0

    def drafts(self) -> list[LineDraft]:
        return [form.draft() for form in self.forms if form.has_changed()]


LineFormSet = formset_factory(
    LineForm,
    formset=BaseLineFormSet,
    extra=BLANK_LINES,
    max_num=MAX_LINES,
    absolute_max=MAX_LINES,
    validate_max=True,
)


def line_formset(data: Any = None, *, lines: list[LineDraft] | None = None) -> BaseLineFormSet:
    """The lines of a new invoice (blank), or of a draft being edited (its lines, then blanks)."""
    initial = [
        {
            "service_code": line.service_code,
            "description": line.description,
            "diagnosis_codes": line.diagnosis_codes,
            "quantity": line.quantity,
            "unit_price": f"{line.unit_price_cents / 100:.2f}",
        }
        for line in lines or []
    ]
    formset = cast(BaseLineFormSet, LineFormSet(data, initial=initial or None, prefix="lines"))
    if initial:
        formset.extra = min(len(initial) + EDIT_BLANK_LINES, MAX_LINES)
    return formset


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("Why the invoice is void; kept with it."),
        error_messages={"required": _("Please say why the invoice is void.")},
    )


class AdjustmentForm(forms.Form):
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        help_text=_("What it is for, e.g. courtesy discount or insurance write-off."),
    )
    amount = DollarsField(label=_("Amount"))


class PaymentForm(forms.Form):
    method = forms.ChoiceField(
        label=_("Method"),
        choices=[
            (Payment.Method.CASH, Payment.Method.CASH.label),
            (Payment.Method.CHECK, Payment.Method.CHECK.label),
            (Payment.Method.CARD_IN_OFFICE, Payment.Method.CARD_IN_OFFICE.label),
        ],
        widget=forms.RadioSelect,
    )
    amount = DollarsField(label=_("Amount"))
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        required=False,
        help_text=_("A check number or the card slip's number, if any."),
    )


class RefundForm(forms.Form):
    amount = DollarsField(label=_("Amount to refund"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("Kept with the refund, for the office; the patient does not see it."),
    )
    key = OneTimeKeyField()
