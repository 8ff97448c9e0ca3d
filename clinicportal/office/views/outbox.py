"""The Outbox: every email the practice queued, and its status."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicportal.accounts.services.links import LinkGone, email_send_again
from clinicportal.notifications.selectors import (
    outbox_email_get,
    outbox_for_practice,
    worker_state,
)
from clinicportal.notifications.services import NotFailed, outbox_email_view
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
    return render(
        request,
        "office/outbox_email.html",
        {"email": email, "text_days": settings.CLINICPORTAL_OUTBOX_TEXT_DAYS},
    )


@require_POST
@staff_required
def outbox_email_send_again(request: StaffRequest, email_id: uuid.UUID) -> HttpResponse:
    email = outbox_email_get(actor=request.actor, public_id=email_id)
    try:
        going = email_send_again(actor=request.actor, email=email)
    except NotFailed:
        messages.info(request, _("This email was already sent again; nothing was changed."))
    except LinkGone as gone:
        messages.error(request, gone.message)
    else:
        if going.pk == email.pk:
            messages.success(request, _("The email is queued to be sent again."))
        else:
            messages.success(
                request,
                _("A new email with a new link is queued; the link in this one no longer works."),
            )
        return redirect("office:outbox_email", going.public_id)
    return redirect("office:outbox_email", email.public_id)
