"""What the tests of Admin → Schedule's pages share: forms as a browser posts them, errors."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.urls import reverse

from clinicportal.scheduling.models import Provider

SETTINGS_URL = reverse("office:settings_schedule")
PROVIDERS_URL = reverse("office:providers")
TYPES_URL = reverse("office:types")


def week_data(
    name: str = "Dr. Ana Chen",
    week: dict[int, list[tuple[str, str]]] | None = None,
    *,
    active: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """The provider form as a browser posts it: every day with its rows (and a blank one)."""
    data: dict[str, Any] = {"name": name, **extra}
    if active:
        data["active"] = "on"
    for weekday in range(7):
        rows = (week or {}).get(weekday, [])
        data[f"rows_{weekday}"] = len(rows) + 1
        for number, (starts, ends) in enumerate([*rows, ("", "")]):
            data[f"h{weekday}_{number}_starts"] = starts
            data[f"h{weekday}_{number}_ends"] = ends
    return data


LUNCH_BREAK = {day: [("09:00", "12:00"), ("13:00", "17:00")] for day in range(5)}


def hours_of(provider: Provider) -> list[tuple[int, datetime.time, datetime.time]]:
    return list(provider.hours.values_list("weekday", "starts", "ends"))


def errors_by_id(html: str) -> dict[str, str]:
    """Each error block on the page by its id: what a screen reader reaches from the field."""
    return {
        m.group(1): re.sub(r"<[^>]+>", " ", m.group(2)).strip()
        for m in re.finditer(r'<div class="errors" id="([^"]+)">(.*?)</div>', html, re.S)
    }
