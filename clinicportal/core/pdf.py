"""HTML to PDF with WeasyPrint, fetching nothing: every resource must be inline (data: URLs)."""

from __future__ import annotations

from typing import Any


def no_fetching() -> Any:
    from weasyprint.urls import URLFetcher

    # Every scheme but data: is refused before anything is opened: no http(s), file or ftp.
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


def pdf_from_html(document: str) -> bytes:
    """A whole HTML document (its styles inline) as a PDF."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=document, base_url=None, url_fetcher=no_fetching()).write_pdf()
    return pdf
