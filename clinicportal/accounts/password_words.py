"""Context-specific words: a password may not be made mostly of them (ASVS 6.1.2 and 6.2.11).

The list is in two parts. ``SITE_WORDS`` is the same everywhere: the product's name, the kinds
of practice that run it, the people who sign in and their roles, and what its pages and
sign-in are called. ``practice_words`` adds each practice's own: its name, its web address
(the slug in ``/p/<slug>/``), its phone number and the words of its address.

A password is refused when, once those words are taken out, fewer than ``REMAINDER_MIN``
letters or digits are left: "Clearview2026!" and "Patient-Portal-99" are refused,
"clearview-lantern-orchard" is not. Before comparing, both sides are folded the same way:
case, compatibility forms (NFKC), the usual look-alike substitutions ("p@ssw0rd" is
"password") and everything that is not a letter or a digit ("clear view" is "clearview").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from clinicportal.practices.models import Practice

SITE_WORDS = frozenset(
    {
        # the product
        "clinicportal",
        "clinic",
        "portal",
        "patientportal",
        # the practices that run it
        "practice",
        "office",
        "eyecare",
        "optometry",
        "optometrist",
        "ophthalmology",
        "ophthalmologist",
        "optical",
        "vision",
        "medical",
        "health",
        "healthcare",
        # who signs in, and their roles
        "patient",
        "guardian",
        "parent",
        "spouse",
        "admin",
        "administrator",
        "staff",
        "doctor",
        "nurse",
        "reception",
        "receptionist",
        "manager",
        "frontdesk",
        # the sign-in and the pages' names
        "password",
        "passcode",
        "login",
        "signin",
        "welcome",
        "secure",
        "account",
        "username",
        "messages",
        "records",
        "schedule",
        "billing",
    }
)
# What must be left of a password once the context words are taken out.
REMAINDER_MIN = 8
# A practice's words shorter than this are not taken out ("Eye", "St"): they are too common.
WORD_MIN = 4
PHONE_DIGITS_MIN = 7

# Words of any address: taken out of passwords, they would only refuse ordinary words.
_ADDRESS_WORDS = frozenset(
    {"street", "suite", "avenue", "road", "drive", "lane", "boulevard", "court", "place"}
    | {"floor", "building", "unit", "north", "south", "east", "west", "main", "blvd"}
)
# Look-alikes folded to one letter; "l" and "1" both become "i", so "c1inic" is "clinic".
_LOOK_ALIKES = str.maketrans(
    {"0": "o", "1": "i", "l": "i", "|": "i", "!": "i", "3": "e", "4": "a", "@": "a"}
    | {"5": "s", "$": "s", "7": "t"}
)


def fold(text: str) -> str:
    """``text`` as the words are compared: casefolded, look-alikes folded, letters and digits."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_LOOK_ALIKES)
    return "".join(ch for ch in folded if ch.isalnum())


def practice_words(practice: Practice) -> set[str]:
    """The practice's own words: its name, slug, phone number and address (without the
    words every address has, "Street" or "Suite", nor any shorter than WORD_MIN)."""
    words: set[str] = set()
    for text in (practice.name, practice.slug, practice.address):
        words.update(re.split(r"[\W_]+", text))
    words.update({practice.name, practice.slug})
    words = {
        word
        for word in words
        if len(fold(word)) >= WORD_MIN and word.casefold() not in _ADDRESS_WORDS
    }
    digits = re.sub(r"\D", "", practice.phone)
    if len(digits) >= PHONE_DIGITS_MIN:
        words.update({digits, digits[-PHONE_DIGITS_MIN:]})
    return words


def folded_words(words: Iterable[str]) -> tuple[str, ...]:
    """The words folded, longest first (so "clinicportal" goes before "clinic")."""
    folded = {fold(word) for word in words}
    return tuple(sorted((word for word in folded if word), key=len, reverse=True))


def remainder(password: str, words: Iterable[str]) -> str:
    """What is left of the folded password once the folded ``words`` are taken out."""
    left = fold(password)
    for word in words:
        left = left.replace(word, "")
    return left


class ContextWordsValidator:
    """A Django password validator: refuses a password made mostly of context words.

    Built with a practice, it adds that practice's words to ``SITE_WORDS``. In
    AUTH_PASSWORD_VALIDATORS (no practice) it checks the site's words only.
    """

    def __init__(self, practice: Practice | None = None) -> None:
        words = set(SITE_WORDS)
        if practice is not None:
            words |= practice_words(practice)
        self.words = folded_words(words)

    def validate(self, password: str, user: Any = None) -> None:
        left = remainder(password, self.words)
        # Only a password with words taken out: one of symbols alone is no word of ours.
        if len(left) < len(fold(password)) and len(left) < REMAINDER_MIN:
            raise ValidationError(
                _(
                    "This password is mostly the practice's name or words like “portal”, "
                    "“patient” or “password”, which are easy to guess here. Please add "
                    "words of your own."
                ),
                code="password_context_words",
            )

    def get_help_text(self) -> str:
        return _(
            "Your password can't be mostly the practice's name or words like “portal”, "
            "“patient” or “password”."
        )
