"""Breached passwords: a new password is checked against those known from breaches elsewhere
(ASVS 6.2.12), through the Pwned Passwords range API (https://haveibeenpwned.com/API/v3).

Only the first 5 hexadecimal characters of the password's SHA-1 leave this server (k-anonymity):
``GET <CLINICPORTAL_BREACHED_PASSWORDS_URL><first 5>`` answers with every known hash that starts
with them, one ``<the other 35>:<times seen>`` a line. ``Add-Padding: true`` asks for made-up
lines seen 0 times, so that the answer's size says nothing either. The password is refused when
its own line is there with a count above 0.

A service that cannot answer in time does not stop anyone from choosing a password: the check is
skipped, with a warning in the log, and the other rules (length, common passwords, context
words) still apply. ``CLINICPORTAL_BREACHED_PASSWORDS_URL=off`` turns it off, for a server that
may not reach the internet; a mirror of the range API may stand in for the public one.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clinicportal.core.outbound import Unreachable, fetch

log = logging.getLogger(__name__)

PREFIX_LENGTH = 5
# A range holds some 800 to 1 000 lines of 40 bytes or so, padding included.
MAX_RESPONSE_BYTES = 256 * 1024


def times_breached(password: str) -> int | None:
    """How many times the password was seen in breaches (0 for never), or None when the service
    is off or could not answer."""
    base = settings.CLINICPORTAL_BREACHED_PASSWORDS_URL
    if not base:
        return None
    digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:PREFIX_LENGTH], digest[PREFIX_LENGTH:]
    try:
        body = fetch(
            f"{base}{prefix}",
            headers={"Add-Padding": "true", "User-Agent": "ClinicPortal (password check)"},
            timeout=settings.CLINICPORTAL_BREACHED_PASSWORDS_TIMEOUT,
            max_bytes=MAX_RESPONSE_BYTES,
        )
    except Unreachable as exc:
        log.warning("The breached-password check was skipped: %s", exc)
        return None
    seen, lines = 0, 0
    for line in body.decode("ascii", errors="replace").splitlines():
        found, _sep, count = line.strip().partition(":")
        if len(found) != len(suffix) or not count.isdigit():
            continue
        lines += 1
        if found.upper() == suffix:
            seen = int(count)  # 0 on a line of padding
    if not lines:  # a page of something else (a proxy's, an error's): no answer at all
        log.warning("The breached-password check was skipped: its answer was not a range.")
        return None
    return seen


class BreachedPasswordValidator:
    """A Django password validator: refuses a password seen in a breach elsewhere."""

    def validate(self, password: str, user: Any = None) -> None:
        seen = times_breached(password)
        if seen:
            raise ValidationError(
                ngettext(
                    "This password has appeared in a data breach elsewhere (%(count)s time), "
                    "so it is on the lists people use to guess passwords. Please choose "
                    "another.",
                    "This password has appeared in data breaches elsewhere (%(count)s times), "
                    "so it is on the lists people use to guess passwords. Please choose "
                    "another.",
                    seen,
                )
                % {"count": number_format(seen, force_grouping=True)},
                code="password_breached",
            )

    def get_help_text(self) -> str:
        return _("Your password can't be one that has appeared in a data breach.")
