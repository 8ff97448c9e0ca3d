"""A practice's time zone: which IANA names it may be, and the ones most practices choose."""

from __future__ import annotations

import functools
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The zones of the United States, in the order people look for them, each with its usual name.
US_TIME_ZONES: tuple[tuple[str, Promise], ...] = (
    ("America/New_York", _("Eastern time (New York)")),
    ("America/Chicago", _("Central time (Chicago)")),
    ("America/Denver", _("Mountain time (Denver)")),
    ("America/Phoenix", _("Mountain time without daylight saving (Arizona)")),
    ("America/Los_Angeles", _("Pacific time (Los Angeles)")),
    ("America/Anchorage", _("Alaska time (Anchorage)")),
    ("Pacific/Honolulu", _("Hawaii time (Honolulu)")),
    ("America/Puerto_Rico", _("Atlantic time (Puerto Rico)")),
)

# In the system's time zone database, but not a place's zone: "localtime" is whatever this
# server is set to, and "Factory" has no offset people use.
_NOT_PLACES = frozenset({"localtime", "Factory"})


@functools.cache
def time_zone_names() -> frozenset[str]:
    """Return the IANA time zone names this server knows (read once: the files do not change
    while it runs)."""
    return frozenset(zoneinfo.available_timezones() - _NOT_PLACES)


def time_zone_default() -> str:
    """Return the server's time zone (``settings.TIME_ZONE``): where a new practice starts."""
    return settings.TIME_ZONE


def validate_time_zone(value: str) -> None:
    """Refuse a name that is not an IANA time zone this server knows."""
    if value not in time_zone_names():
        raise ValidationError(
            _("“%(value)s” is not a time zone name. Choose one such as %(example)s."),
            code="invalid_time_zone",
            params={"value": value, "example": "America/Denver"},
        )


def time_zone_label(name: str) -> str:
    """The zone as people name it: "Eastern time (New York)" for the United States' zones, the
    IANA name with spaces for the others ("Europe/Isle of Man")."""
    return str(dict(US_TIME_ZONES).get(name, name.replace("_", " ")))


def time_zone_choices() -> list[tuple[Promise, list[tuple[str, str | Promise]]]]:
    """Return the zones for a select: the United States' first, then every other by name."""
    us = [name for name, _label in US_TIME_ZONES if name in time_zone_names()]
    others = sorted(time_zone_names() - set(us))
    return [
        (_("United States"), [(name, label) for name, label in US_TIME_ZONES if name in us]),
        (_("All time zones"), [(name, time_zone_label(name)) for name in others]),
    ]
