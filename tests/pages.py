"""Reading a page as a person does: its words, without the markup or the form's hidden values.

A check that a short text is nowhere on a page must read the page this way: its CSRF token and
other random values (64 letters and digits) spell a given three letters about once in 4,000.
"""

from __future__ import annotations

import re
from html import unescape


def page_text(html: str) -> str:
    """The words of a page, as a reader sees them: scripts, styles and tags gone, entities
    read, spaces squeezed."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def without_form_values(html: str) -> str:
    """The page with its fields' values left out (the CSRF token, once-keys): for a check that
    a text is nowhere in it, attributes and all."""
    return re.sub(r'value="[^"]*"', "", html)
