"""Message bodies are shown as text: escaped, with line breaks and links, never as HTML."""

from __future__ import annotations

from clinicportal.core.templatetags.plain_text import plain_text


def test_html_is_shown_as_text():
    shown = plain_text('<script>alert(1)</script><img src=x onerror="alert(2)">')
    assert "<script>" not in shown and "<img" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in shown


def test_line_breaks_are_kept():
    assert plain_text("one\r\ntwo\nthree") == "one<br>two<br>three"


def test_web_addresses_become_links_that_keep_their_origin_private():
    shown = plain_text("See https://example.org/a?b=1&c=2. Thanks")
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer" '
        'target="_blank">https://example.org/a?b=1&amp;c=2'
        '<span class="visually-hidden"> (opens in a new tab)</span></a>. Thanks'
    ) in shown


def test_only_web_addresses_are_linked():
    shown = plain_text('javascript:alert(1) and "http://x.test/"onmouseover=alert(1)')
    assert "javascript:alert(1)" in shown and 'href="javascript' not in shown
    assert 'href="http://x.test/"' in shown
    assert "onmouseover=alert(1)" in shown and " onmouseover" not in shown.split(">")[0]
