"""The Outbox: every email the practice queued, and its status."""

from __future__ import annotations

import uuid

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from clinicportal.notifications.selectors import (
    outbox_email_get,
    outbox_for_practice,
    worker_state,
)
from clinicportal.notifications.services import outbox_email_view
from clinicportal.office.auth import StaffRequest, staff_required

OUTBOX_PER_PAGE = 25


@staff_required
def outbox(request: StaffRequest) -> HttpResponse:
    emails = outbox_for_practice(actor=request.actor)
    page = Paginator(emails, OUTBOX_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "office/outbox.html", {"page": page, "worker": worker_state()})


@staff_required
def outbox_email(request: StaffRequest, email_id: uuid.UUID) -> HttpResponse:
    email = outbox_email_get(actor=request.actor, public_id=email_id)
    outbox_email_view(actor=request.actor, email=email)
    return render(request, "office/outbox_email.html", {"email": email})
