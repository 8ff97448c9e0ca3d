from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import Any

from django.http import HttpRequest

from clinicportal.core.context import StaffActor
from clinicportal.messaging.selectors import open_task_count

# Which navigation item each office page (by URL name prefix) belongs to.
_SECTIONS = (
    ("patient", "patients"),
    ("chart_file", "patients"),
    ("portal_access", "patients"),
    ("authorized_user", "patients"),
    ("portal_document", "patients"),
    ("conversation", "patients"),
    ("message", "patients"),  # message_new, message_log, message_attachment_*
    ("task", "tasks"),
    ("schedule", "schedule"),
    ("appointment", "schedule"),  # appointment, appointment_new, appointment_move, …
    ("billing", "billing"),
    ("invoice", "billing"),  # invoice, invoice_new, invoice_edit, invoice_payment, …
    ("payments", "billing"),  # payments_day
    ("outbox", "outbox"),
    ("settings", "admin"),
    # Admin → Schedule's pages (settings/schedule/…)
    ("provider", "admin"),  # providers, provider_new, provider_remove, provider_day_off_add
    ("type", "admin"),  # types, type_new, type
    ("day_off", "admin"),
    ("practice_day_off", "admin"),
    ("submission", "forms"),  # submissions, submission, submission_refile
    ("form", "admin"),  # Admin → Forms: forms, form_new, form, form_preview
    ("account", "account"),
)


def nav(request: HttpRequest) -> dict[str, Any]:
    """The office section the current page belongs to, and the count of open tasks.

    ``nav`` names the section for the navigation's aria-current. ``open_tasks`` is a callable
    the template calls when it shows the count: the query runs then, once a page, and only for
    signed-in staff.
    """
    match = request.resolver_match
    if match is None or match.namespace != "office":
        return {}
    context: dict[str, Any] = {}
    actor = getattr(request, "actor", None)
    if isinstance(actor, StaffActor):
        count: Callable[[], int] = cache(partial(open_task_count, actor=actor))
        context["open_tasks"] = count
    for prefix, section in _SECTIONS:
        if (match.url_name or "").startswith(prefix):
            context["nav"] = section
            break
    return context
