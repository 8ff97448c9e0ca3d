"""Find letters in templates that do not pass through {% translate %} / {% blocktranslate %}."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from django.template.base import Lexer, TokenType

# Attributes whose values people read (data-label: the CSS shows it on phones) or hear.
READ_ATTRIBUTES = frozenset(
    {"title", "alt", "aria-label", "placeholder", "data-label", "data-upload-failed"}
)
# Blocks whose contents are CSS classes, not words.
CLASS_BLOCKS = frozenset({"body_class"})
# Elements whose text is not language: scripts, styles, and code (commands, key prefixes).
UNREAD_ELEMENTS = frozenset({"script", "style", "code", "pre"})
LETTER = re.compile(r"[^\W\d_]")
HOLE = "\x00"


def skeleton(source: str) -> str:
    """The template's HTML with every tag, variable and translated text replaced by a hole."""
    parts: list[str] = []
    translating = 0
    commenting = 0
    class_block = 0
    block_names: list[str] = []
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            bits = token.contents.split()
            name = bits[0] if bits else ""
            if name in ("blocktranslate", "blocktrans"):
                translating += 1
            elif name in ("endblocktranslate", "endblocktrans"):
                translating -= 1
            elif name == "comment":
                commenting += 1
            elif name == "endcomment":
                commenting -= 1
            elif name == "block":
                block_names.append(bits[1] if len(bits) > 1 else "")
                class_block += bits[1] in CLASS_BLOCKS if len(bits) > 1 else 0
            elif name == "endblock" and block_names:
                class_block -= block_names.pop() in CLASS_BLOCKS
            parts.append(" ")  # a tag may sit inside an HTML tag: `<fieldset{% if x %} ...`
        elif token.token_type == TokenType.VAR:
            parts.append(HOLE)
        elif token.token_type == TokenType.TEXT:
            parts.append(HOLE if translating or commenting or class_block else token.contents)
    return "".join(parts)


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._raw = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in UNREAD_ELEMENTS:
            self._raw += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and LETTER.search(value):
                self.found.append(f'{name}="{value}"')

    def handle_endtag(self, tag: str) -> None:
        if tag in UNREAD_ELEMENTS:
            self._raw = max(0, self._raw - 1)

    def handle_data(self, data: str) -> None:
        if not self._raw and LETTER.search(data):
            self.found.append(" ".join(data.replace(HOLE, "…").split()))


def untranslated(source: str) -> list[str]:
    """Every piece of visible text or read attribute in source that is not translated."""
    finder = _Finder()
    finder.feed(skeleton(source))
    finder.close()
    return finder.found


def template_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("**/templates/**/*") if p.is_file())
