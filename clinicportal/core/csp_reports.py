"""Where browsers report what the Content-Security-Policy stopped (ASVS 3.4.7).

Every page's policy names ``/csp-report`` (``report-uri`` in SECURE_CSP). A browser that
refuses a script, a style or a frame on one of the site's pages posts a report here, and the
report is logged as a warning, so that the operator hears of a page someone made run what it
should not (or of a page of ours that breaks its own policy).

A report says which page and what was blocked. Only the addresses' paths go into the log, never
their query strings (an office search's handle), with a single-use link's token masked as in
the access log, and every field is cut short.
The report comes from a browser with no token and no cookie read, so the view is exempt from
CSRF and sets nothing; it writes nothing but the log line. Anyone may post here, as anyone may
request any page: each post makes one line (its first report's, with how many more it held),
as its request's access line does. Django reads at most DATA_UPLOAD_MAX_MEMORY_SIZE of it.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from clinicportal.core.logcontext import path_masked

logger = logging.getLogger(__name__)

REPORT_MAX_BYTES = 16 * 1024
FIELD_MAX = 200
# The fields of a report-uri report (application/csp-report) and of the Reporting API's
# (application/reports+json, under "body"), by what they say.
FIELDS = {
    "page": ("document-uri", "documentURL"),
    "directive": ("effective-directive", "effectiveDirective", "violated-directive"),
    "blocked": ("blocked-uri", "blockedURL"),
    "source": ("source-file", "sourceFile"),
    "line": ("line-number", "lineNumber"),
}


def _text(value: object) -> str:
    """A field as it may be logged: an address without its query or fragment, cut short."""
    text = "".join(ch for ch in str(value) if ch.isprintable())
    if "://" in text:
        parts = urlsplit(text)
        text = f"{parts.scheme}://{parts.netloc}{path_masked(parts.path)}"
    return text[:FIELD_MAX]


def _reports(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        return [payload["csp-report"]]
    if isinstance(payload, list):  # the Reporting API sends a list
        return [
            item["body"]
            for item in payload
            if isinstance(item, dict) and isinstance(item.get("body"), dict)
        ]
    return []


@csrf_exempt  # a browser's report carries no token, and no cookie is read here
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Log the first report a post holds (and how many more): one line a request."""
    if len(request.body) > REPORT_MAX_BYTES:
        return HttpResponse(status=413)
    try:
        payload = json.loads(request.body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python follows
        return HttpResponse(status=400)
    reports = _reports(payload)
    if not reports:
        return HttpResponse(status=400)
    said = {
        name: next((_text(reports[0][key]) for key in keys if reports[0].get(key)), "")
        for name, keys in FIELDS.items()
    }
    logger.warning(
        "content security policy violation: %(directive)s blocked %(blocked)s on %(page)s "
        "(%(source)s line %(line)s)%(more)s",
        {**said, "more": f", and {len(reports) - 1} more" if len(reports) > 1 else ""},
    )
    return HttpResponse(status=204)
