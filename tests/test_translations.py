"""Every word a template shows goes through {% translate %} or {% blocktranslate %}.

Spanish is to come by adding a catalogue, never by touching templates again: this reads every
template's source and fails on text, or on an attribute people read (title, alt, aria-label,
placeholder, data-label), that does not pass through the translation tags.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.untranslated import template_files, untranslated

ROOT = Path(__file__).resolve().parent.parent / "clinicportal"
TEMPLATES = template_files(ROOT)


def test_the_templates_are_found() -> None:
    assert len(TEMPLATES) > 50


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_template_word_is_translated(path: Path) -> None:
    assert untranslated(path.read_text()) == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("<p>Hello</p>", ["Hello"]),
        ('{% load i18n %}<p>{% translate "Hello" %}</p>', []),
        ("{% load i18n %}<p>{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}</p>", []),
        ("<p>{{ name }} was added.</p>", ["… was added."]),
        ('<a href="/x" title="Open">{{ x }}</a>', ['title="Open"']),
        ('<td data-label="Date">1</td>', ['data-label="Date"']),
        ("<nav aria-label=\"{% translate 'Pages' %}\"></nav>", []),
        ('<fieldset{% if x %} aria-describedby="e"{% endif %}></fieldset>', []),
        ("{% block body_class %}narrow portal{% endblock %}", []),
        ("<p>{# a comment #}{% comment %}Notes{% endcomment %}</p>", []),
        ("<code>cpk_{{ prefix }}_…</code><script>go()</script>", []),
        ("<p>{{ a }} · {{ b }} — 12/31 *</p>", []),
        ("Subject line for {{ practice }}", ["Subject line for …"]),
    ],
)
def test_the_check_finds_what_is_not_translated(source: str, found: list[str]) -> None:
    assert untranslated(source) == found
