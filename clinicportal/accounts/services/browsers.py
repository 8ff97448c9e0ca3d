"""A sign-in from a browser the account has not used before, told to its owner (ASVS 6.3.5).

Someone who has the password, and the code too, signs in from their own browser. Each account
keeps the browsers it signed in from (keyed hashes of their tokens, core.known_browser), the
KEPT most recent; a sign-in from any other is told to its owner. The first sign-in an account
makes once this is in place is only noted: there is nothing yet to compare it with, and every
account would otherwise be told of its owner's own browser.
"""

from __future__ import annotations

from django.db import transaction

from clinicportal.accounts.models import PortalAccount, User
from clinicportal.core.known_browser import browser_key

KEPT = 20  # a phone, a tablet, a computer at home and at work, and room to spare
# What a first sign-in from a browser that sent no name leaves: a sign-in was seen, so the
# next one is compared with it (and, sending no name either, is new).
NAMELESS = "-"


def browser_remember(subject: User | PortalAccount, token: str | None) -> bool:
    """Note that ``subject`` signed in from the browser of ``token`` (None: a browser that
    sent none); return whether it is one the account has not used before, while others are
    known. Call inside the transaction that records the sign-in."""
    accounts = type(subject).objects.filter(pk=subject.pk)
    with transaction.atomic():  # the row locked: two sign-ins at once both count
        known: list[str] = (
            accounts.select_for_update().values_list("known_browsers", flat=True).first() or []
        )
        # Keyed with the account too: one browser is known by another hash in each account, so
        # the rows cannot tell that two accounts are used in the same browser.
        owner = f"{type(subject).__name__}:{subject.pk}"
        key = browser_key(token, owner) if token is not None else NAMELESS
        new = bool(known) and (key == NAMELESS or key not in known)
        if not known or (key != NAMELESS and known[0] != key):
            kept = [key, *(other for other in known if other != key)][:KEPT]
            accounts.update(known_browsers=kept)
    return new
