"""How patient names and phone numbers are folded for search."""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%m/%d/%y")


def name_key(name: str) -> str:
    """Return ``name`` lower-cased, without accents, spaces or punctuation, for prefix search."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if ch.isalnum()).casefold()[:100]


def phone_key(phone: str) -> str:
    """Return the phone number's digits, without a leading North American country code."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits[:20]


@dataclass(frozen=True)
class PatientQuery:
    """A parsed search box: a date of birth, a phone's digits (found at the start or the end of
    a number), or one or two name prefixes."""

    date_of_birth: datetime.date | None = None
    phone_prefix: str = ""
    names: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self.date_of_birth is None and not self.phone_prefix and not self.names


def parse_query(text: str) -> PatientQuery:
    """Read what staff typed: "smith", "smith, jo", "jo smith", "1980-04-02", "555-0134"."""
    text = text.strip()[:100]
    if not text:
        return PatientQuery()
    for fmt in _DATE_FORMATS:
        try:
            return PatientQuery(date_of_birth=datetime.datetime.strptime(text, fmt).date())
        except ValueError:
            continue
    if re.fullmatch(r"[\d\s().+-]+", text) and len(re.sub(r"\D", "", text)) >= 3:
        return PatientQuery(phone_prefix=phone_key(text))
    if "," in text:
        last, _, first = text.partition(",")
        names: tuple[str, ...] = (name_key(last), name_key(first))
    else:
        names = tuple(name_key(part) for part in text.split()[:2])
    return PatientQuery(names=tuple(n for n in names if n) or ("",))
