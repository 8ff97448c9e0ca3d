from __future__ import annotations

from django.http import HttpRequest

# Which navigation item each office page (by URL name prefix) belongs to.
_SECTIONS = (
    ("patient", "patients"),
    ("chart_file", "patients"),
    ("portal_access", "patients"),
    ("authorized_user", "patients"),
    ("portal_document", "patients"),
    ("tasks", "tasks"),
    ("billing", "billing"),
    ("outbox", "outbox"),
    ("settings", "admin"),
    ("account", "account"),
)


def nav(request: HttpRequest) -> dict[str, str]:
    """Name the office section the current page belongs to, for the navigation's aria-current."""
    match = request.resolver_match
    if match is None or match.namespace != "office":
        return {}
    for prefix, section in _SECTIONS:
        if (match.url_name or "").startswith(prefix):
            return {"nav": section}
    return {}
