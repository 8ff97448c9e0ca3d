"""Amounts of money: kept as integer cents, read from what people type, shown as dollars."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.formats import number_format

MAX_CENTS = 100_000_000  # a million dollars: more is a typing slip, not a bill


class NotAnAmount(ValueError):
    """What was typed is not an amount of money in dollars and cents."""


def cents_from_text(text: str) -> int:
    """Return the cents in ``text`` ("12", "12.5", "$1,234.50"); raise NotAnAmount otherwise.

    At most two decimals; never negative; never more than MAX_CENTS.
    """
    cleaned = text.strip().removeprefix("$").replace(",", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise NotAnAmount(text) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise NotAnAmount(text)
    cents = int(amount * 100)
    if cents > MAX_CENTS:
        raise NotAnAmount(text)
    return cents


def dollars(cents: int) -> str:
    """Show ``cents`` as "$1,234.50" (and "-$5.00" below zero)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}${number_format(Decimal(abs(cents)) / 100, 2, force_grouping=True)}"
