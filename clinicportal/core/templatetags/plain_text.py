"""``{{ message.body|plain_text }}``: a user's text shown as they typed it, never as HTML.

Everything is escaped; line breaks stay line breaks; web addresses (http and https only)
become links that open without telling the site where they came from.
"""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

register = template.Library()

# An address runs to the next space; punctuation that usually ends a sentence is left out.
_ADDRESS = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"


def _link(match: re.Match[str]) -> str:
    address = match.group(0)
    trailing = ""
    while address and address[-1] in _TRAILING:
        trailing = address[-1] + trailing
        address = address[:-1]
    safe = escape(address)
    hint = escape(gettext("(opens in a new tab)"))
    return (
        f'<a href="{safe}" rel="noopener noreferrer" target="_blank">{safe}'
        f'<span class="visually-hidden"> {hint}</span></a>{escape(trailing)}'
    )


@register.filter(is_safe=False)
def plain_text(text: str) -> SafeString:
    """Escape ``text``, link its web addresses and keep its line breaks."""
    lines = str(text).replace("\r\n", "\n").split("\n")
    rendered = []
    for line in lines:
        parts: list[str] = []
        last = 0
        for match in _ADDRESS.finditer(line):
            parts.append(escape(line[last : match.start()]))
            parts.append(_link(match))
            last = match.end()
        parts.append(escape(line[last:]))
        rendered.append("".join(parts))
    return mark_safe("<br>".join(rendered))  # noqa: S308 (every piece escaped above)
