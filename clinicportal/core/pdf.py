"""HTML to PDF with WeasyPrint, fetching nothing: every resource must be inline (data: URLs)."""

from __future__ import annotations

from typing import Any


def no_fetching() -> Any:
    import ssl

    from weasyprint.urls import URLFetcher

    # Every scheme but data: is refused before anything is opened: no http(s), file or ftp.
    # The TLS context is never used, so it is a bare one: left to itself the fetcher makes a
    # default context, and loading the system's certificates took some 45 ms of every PDF.
    # Without them, no certificate would verify either.
    return URLFetcher(
        ssl_context=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT),
        allowed_protocols={"data"},
        allow_redirects=False,
        timeout=1,
    )


def pdf_from_html(document: str) -> bytes:
    """A whole HTML document (its styles inline) as a PDF."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=document, base_url=None, url_fetcher=no_fetching()).write_pdf()
    return pdf
