"""Links that open a new tab say so, and the new tab cannot reach back into ours."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "clinicportal"


def test_every_new_tab_link_says_so_and_has_noopener():
    links = [
        (path, link)
        for path in TEMPLATES.rglob("templates/**/*.html")
        for link in re.findall(r"<a\b[^>]*>.*?</a>", path.read_text(), flags=re.S)
        if 'target="_blank"' in link
    ]
    assert links, "the test found no new-tab links to check"
    for path, link in links:
        assert re.search(r'rel="[^"]*\bnoopener\b', link), (path.name, link)
        # Said in the link, or through a variable the template translates to it (inside a
        # blocktranslate, where tags cannot go).
        said = re.search(r"\(opens [^)]*in a new tab\)", link)
        named = re.search(r"\{\{ (\w+) \}\}</span>", link)
        assert said or (
            named
            and re.search(
                r'\{% translate "\(opens [^)]*in a new tab\)" as ' + named.group(1) + r" %\}",
                path.read_text(),
            )
        ), (path.name, link)
