"""Tasks: the web messages from patients, to read and sign off (the old system's §7), the
appointments patients book, ask for, move or cancel online, the forms they submit, and the
refunds the processor reports failed, for the office to give the money back another way.

"Check for Web Messages" is the list itself, read again: nothing is fetched from anywhere, a
patient's message (or booking) is a task the moment it is sent. Signing off records who and
when; a second sign-off (a double click, two staff at once) changes nothing and says who was
first.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clinicportal.core.keyset import KeysetPage
from clinicportal.core.money import dollars
from clinicportal.core.reversing import reverse_with_id_slot
from clinicportal.messaging import services
from clinicportal.messaging.models import Task
from clinicportal.messaging.selectors import (
    TaskFilter,
    category_name,
    messaging_settings_for,
    office_task,
    task_categories,
    tasks_page,
)
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.views.common import _next_within_office


@dataclass(frozen=True)
class TaskRow:
    """One row of the list, its words made here: a template's tags cost more, 25 rows a page."""

    task: Task
    line: str  # the message's first line, or what happened to the appointment and its time
    note: str  # the appointment's type and provider, or ""
    requests_response: bool
    category: str  # the practice's name for it
    age: str  # "3 days"
    received: str  # "11/29/2026 5:56 PM"
    signed_off: str  # "Bob Front Desk, 11/30/2026 9:02 AM", or "" while open


def _filter_query(chosen: TaskFilter) -> str:
    """The list's choices as a query string (defaults left out), for its links."""
    params = {
        "status": chosen.status if chosen.status != "open" else "",
        "category": chosen.category,
        "order": "newest" if chosen.newest_first else "",
    }
    return urlencode({key: value for key, value in params.items() if value})


@require_GET
@staff_required
def tasks(request: StaffRequest) -> HttpResponse:
    """The practice's web-message tasks: open ones, oldest first, unless chosen otherwise."""
    chosen = TaskFilter.parse(request.GET.dict())
    cursor = request.GET.get("page", "")
    page: KeysetPage[Task] = tasks_page(actor=request.actor, chosen=chosen, cursor=cursor)
    if not page.rows and cursor:
        # Everything past this page's mark was signed off meanwhile: start again.
        page = tasks_page(actor=request.actor, chosen=chosen, cursor=None)
    config = messaging_settings_for(request.actor.practice)
    now = timezone.now()
    rows = [
        TaskRow(
            task,
            line=_line(task),
            note=_appointment_note(task),
            requests_response=task.message is not None and task.message.requests_response,
            category=category_name(config, task.category),
            age=timesince(task.created_at, now, depth=1),
            received=_when(task.created_at),
            signed_off=_signed_off(task),
        )
        for task in page.rows
    ]
    query = _filter_query(chosen)
    context = {
        "page": page,
        "rows": rows,
        "chosen": chosen,
        "categories": task_categories(config),
        "filter_query": query,
        "extra_params": f"{query}&" if query else "",
        "next_param": urlencode({"next": request.get_full_path()}),
        "task_url": reverse_with_id_slot("office:task"),
        "patient_url": reverse_with_id_slot("office:patient"),
        "filtered": chosen != TaskFilter(),
    }
    return render(request, "office/tasks.html", context)


def _back_to_list(request: StaffRequest) -> str:
    return _next_within_office(request) or reverse("office:tasks")


def _line(task: Task) -> str:
    """What the list and the sign-off say the task is: its message's first line, or the
    appointment's change and time ("Appointment requested: 12/08/2026 9:00 AM")."""
    if task.message is not None:
        return task.message.first_line
    if task.submission is not None:
        return _("Form submitted: %(form)s") % {"form": task.submission.form.name}
    if task.refund is not None:
        return _("Refund failed: %(amount)s") % {"amount": dollars(task.refund.amount_cents)}
    if task.appointment is None:
        return ""
    return _("%(happened)s: %(when)s") % {
        "happened": task.get_happened_display(),
        "when": _when(task.appointment.starts_at),
    }


def _appointment_note(task: Task) -> str:
    if task.submission is not None and task.submission.pdf_error:
        return _("The PDF could not be made; the answers are kept.")
    if task.refund is not None:
        return task.refund.refused_because
    appointment = task.appointment
    if appointment is None:
        return ""
    return _("%(type)s with %(provider)s; now %(status)s") % {
        "type": appointment.type.name,
        "provider": appointment.provider.name,
        "status": appointment.get_status_display().lower(),
    }


@require_GET
@staff_required
def task_detail(request: StaffRequest, task_id: uuid.UUID) -> HttpResponse:
    """The task and its whole message (the old system's reminder window), or its appointment."""
    task = office_task(actor=request.actor, public_id=task_id)
    if task.submission is not None:
        return _form_task(request, task)
    if task.refund is not None:
        return _refund_task(request, task)
    if task.message is None:
        return _appointment_task(request, task)
    message = task.message
    conversation = message.conversation
    conversation.patient = task.patient
    services.conversation_office_view(actor=request.actor, conversation=conversation)
    config = messaging_settings_for(request.actor.practice)
    next_url = _back_to_list(request)
    context = {
        "task": task,
        "message": message,
        "conversation": conversation,
        "patient": task.patient,
        "category": category_name(config, task.category),
        "attachments": list(message.attachments.all()),
        "back_url": next_url,
        "next_param": urlencode({"next": next_url}),
    }
    return render(request, "office/task.html", context)


def _appointment_task(request: StaffRequest, task: Task) -> HttpResponse:
    """An appointment's task: what the patient did, the appointment as it is now, and a link."""
    next_url = _back_to_list(request)
    context = {
        "task": task,
        "appointment": task.appointment,
        "patient": task.patient,
        "line": _line(task),
        # The appointment's page is under Schedule, which a practice may have switched off.
        "appointment_url": reverse("office:appointment", args=[task.appointment.public_id])
        if task.appointment is not None and request.actor.practice.schedule_enabled
        else "",
        "category": category_name(messaging_settings_for(request.actor.practice), task.category),
        "back_url": next_url,
        "next_param": urlencode({"next": next_url}),
    }
    return render(request, "office/task_appointment.html", context)


def _form_task(request: StaffRequest, task: Task) -> HttpResponse:
    """A submitted form's task: who sent which form, whether its PDF is in the chart, a link."""
    next_url = _back_to_list(request)
    submission = task.submission
    context = {
        "task": task,
        "submission": submission,
        "patient": task.patient,
        "line": _line(task),
        "submission_url": reverse("office:submission", args=[submission.public_id])
        if submission is not None
        else "",
        "back_url": next_url,
        "next_param": urlencode({"next": next_url}),
    }
    return render(request, "office/task_form.html", context)


def _refund_task(request: StaffRequest, task: Task) -> HttpResponse:
    """A failed refund's task: whose money, how much, why, and a link to its invoice."""
    next_url = _back_to_list(request)
    refund = task.refund
    assert refund is not None
    invoice = refund.payment.invoice
    context = {
        "task": task,
        "refund": refund,
        "invoice": invoice,
        "patient": task.patient,
        "line": _line(task),
        "amount": dollars(refund.amount_cents),
        "invoice_url": reverse("office:invoice", args=[task.patient.public_id, invoice.public_id])
        + "#payments-title",
        "back_url": next_url,
        "next_param": urlencode({"next": next_url}),
    }
    return render(request, "office/task_refund.html", context)


def _when(moment: datetime.datetime | None) -> str:
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "m/d/Y g:i A")


def _signed_off(task: Task) -> str:
    if task.signed_off_at is None:
        return ""
    return _("%(name)s, %(when)s") % {
        "name": task.signed_off_by_name,
        "when": _when(task.signed_off_at),
    }


@require_POST
@staff_required
def task_sign_off(request: StaffRequest, task_id: uuid.UUID) -> HttpResponse:
    task = office_task(actor=request.actor, public_id=task_id)
    try:
        services.task_sign_off(actor=request.actor, task=task)
    except services.TaskUnchanged:
        task = office_task(actor=request.actor, public_id=task_id)
        if task.is_open:  # signed off and re-opened again in between: say so, change nothing
            messages.info(request, _("This task was changed meanwhile; nothing was signed off."))
        else:
            messages.info(
                request,
                _("Already signed off by %(name)s at %(when)s; nothing was changed.")
                % {"name": task.signed_off_by_name, "when": _when(task.signed_off_at)},
            )
    else:
        messages.success(
            request,
            _("Signed off: %(patient)s, “%(line)s”.")
            % {"patient": task.patient.full_name, "line": _line(task)},
        )
    return redirect(_back_to_list(request))


@require_POST
@staff_required
def task_reopen(request: StaffRequest, task_id: uuid.UUID) -> HttpResponse:
    task = office_task(actor=request.actor, public_id=task_id)
    try:
        services.task_reopen(actor=request.actor, task=task)
    except services.TaskUnchanged:
        messages.info(request, _("This task is already open; nothing was changed."))
    else:
        messages.success(request, _("The task is open again."))
    url = reverse("office:task", args=[task.public_id])
    following = _next_within_office(request)
    return redirect(f"{url}?{urlencode({'next': following})}" if following else url)
