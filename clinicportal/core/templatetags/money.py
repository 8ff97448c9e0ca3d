"""``{{ invoice.balance_cents|dollars }}``: integer cents shown as "$1,234.50"; and
``{{ sums.payments|credit }}``: what lowers a balance (a payment, an adjustment), "-$50.00"."""

from __future__ import annotations

from django import template

from clinicportal.core import money

register = template.Library()


@register.filter
def dollars(cents: int | None) -> str:
    return "" if cents is None else money.dollars(int(cents))


@register.filter
def credit(cents: int | None) -> str:
    """Cents taken off a balance, shown with their minus: "-$15.00" (and "$0.00" for none)."""
    return "" if cents is None else money.dollars(-int(cents))
