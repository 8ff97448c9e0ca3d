"""``{{ invoice.balance_cents|dollars }}``: integer cents shown as "$1,234.50"."""

from __future__ import annotations

from django import template

from clinicportal.core import money

register = template.Library()


@register.filter
def dollars(cents: int | None) -> str:
    return "" if cents is None else money.dollars(int(cents))
