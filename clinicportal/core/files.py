"""Serve stored content safely: attachment or sandboxed inline, never sniffed, never cached."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.utils.csp import CSP
from django.utils.http import content_disposition_header

# Inline content may not run scripts, load anything, or be framed by other sites. PDFs get no
# 'sandbox' (Chromium refuses to render a PDF in a sandboxed document) but the same lockdown.
_INLINE_CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
)
_SANDBOX_CSP = f"{_INLINE_CSP}; sandbox"


def stored_file_response(
    *, path: str, content_type: str, filename: str, download: bool
) -> HttpResponseBase:
    """Return a response streaming the file at ``path`` with safe headers.

    The transfer is zero-copy: FileResponse hands the open file to the server's
    wsgi.file_wrapper (sendfile), or, with CLINICPORTAL_X_ACCEL_PREFIX set, to nginx.
    """
    response: HttpResponseBase
    if content_type.startswith("text/") and "charset=" not in content_type:
        # Text is stored only when it is UTF-8 (content checks it): say so, or a browser guesses.
        content_type = f"{content_type}; charset=utf-8"
    prefix = settings.CLINICPORTAL_X_ACCEL_PREFIX
    if prefix:
        relative = Path(path).relative_to(settings.CLINICPORTAL_STORAGE_DIR).as_posix()
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{relative}"
    else:
        response = FileResponse(open(path, "rb"), content_type=content_type)  # noqa: SIM115
    response["Content-Disposition"] = content_disposition_header(download, filename) or "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    response["Content-Security-Policy"] = (
        _INLINE_CSP if content_type == "application/pdf" else _SANDBOX_CSP
    )
    return response


def framed_by_this_site[**P](
    view: Callable[P, HttpResponseBase],
) -> Callable[P, HttpResponseBase]:
    """Let this site's own pages, and no other site, frame what the view answers.

    Every other answer may be framed by nobody (``frame-ancestors 'none'``, X-Frame-Options
    DENY, from settings). A file view that the site shows in a preview frame is wrapped in
    this, so that both headers say the same: ``frame-ancestors 'self'`` and SAMEORIGIN.
    ``stored_file_response`` sets the file's own policy; a redirect gets the site's policy
    with only the frame-ancestors changed. An error the view raises is framed by nobody.
    """

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        response = view(*args, **kwargs)
        response["X-Frame-Options"] = "SAMEORIGIN"
        response._csp_config = {  # type: ignore[attr-defined]  # read by Django's CSP middleware
            **settings.SECURE_CSP,
            "frame-ancestors": [CSP.SELF],
        }
        return response

    return wrapped
