"""Secure messages in the chart: the patient's conversations, the reply window, the log.

The seed's Message Window: the history with a checkbox on each of the patient's messages, the
message to send, the office's notes and the "Send Email" box. Checking a message and sending
makes the new message its answer (the Response Date).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinicportal.accounts.selectors import portal_access_for_patient
from clinicportal.content.uploads import UploadNotFinished
from clinicportal.core.access import NotFound
from clinicportal.core.files import framed_by_this_site, stored_file_response
from clinicportal.core.forms import service_errors
from clinicportal.core.http import redirect_after_upload
from clinicportal.core.pagination import counted_page
from clinicportal.core.reversing import reverse_with_id_slot
from clinicportal.messaging import services as messaging_services
from clinicportal.messaging.models import Category, Conversation, Message, Task
from clinicportal.messaging.selectors import (
    all_categories,
    category_name,
    message_log,
    messaging_settings_for,
    office_attachment,
    office_conversation,
    office_conversations,
    office_message,
    office_messages,
)
from clinicportal.messaging.services import Draft
from clinicportal.office.auth import StaffRequest, staff_required
from clinicportal.office.message_forms import NewMessageForm, ReplyForm
from clinicportal.patients import selectors as patient_selectors
from clinicportal.patients.models import Patient

CONVERSATIONS_PER_PAGE = 25


@require_GET
@staff_required
def patient_messages(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The patient's conversations, newest first."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    config = messaging_settings_for(request.actor.practice)
    page = counted_page(
        office_conversations(actor=request.actor, patient=patient),
        CONVERSATIONS_PER_PAGE,
        request.GET.get("page"),
    )
    rows = [(c, category_name(config, c.category)) for c in page.object_list]
    context = {
        "patient": patient,
        "page": page,
        "rows": rows,
        "conversation_url": reverse_with_id_slot("office:conversation", patient.public_id),
    }
    return render(request, "office/patient_messages.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def message_new(request: StaffRequest, patient_id: uuid.UUID) -> HttpResponse:
    """Send Message: start a conversation with the patient."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    config = messaging_settings_for(request.actor.practice)
    form = NewMessageForm(
        request.POST or None,
        request.FILES or None,
        patient=patient,
        chart_files=list(
            patient_selectors.chart_files_for_patient(actor=request.actor, patient=patient)
        ),
        categories=all_categories(config),
    )
    status = 200
    if request.method == "POST":
        answer = _send(request, form, patient)
        if not isinstance(answer, int):
            return answer
        status = answer
    context = {
        "patient": patient,
        "form": form,
        "access": portal_access_for_patient(actor=request.actor, patient=patient),
        "max_bytes": settings.CLINICPORTAL_UPLOAD_MAX_BYTES,
    }
    return render(request, "office/message_new.html", context, status=status)


@dataclass(frozen=True)
class HistoryRow:
    """One message of the reply window: whether its box is checked, and its task."""

    message: Message
    checked: bool
    task: Task | None


@require_http_methods(["GET", "POST"])
@staff_required
def conversation(
    request: StaffRequest, patient_id: uuid.UUID, conversation_id: uuid.UUID
) -> HttpResponse:
    """The reply window: the history, and the reply that answers the checked messages."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    found = office_conversation(actor=request.actor, patient=patient, public_id=conversation_id)
    page = office_messages(actor=request.actor, conversation=found, cursor=request.GET.get("page"))
    history = page.rows
    chart_files = list(
        patient_selectors.chart_files_for_patient(actor=request.actor, patient=patient)
    )
    form = ReplyForm(
        request.POST or None, request.FILES or None, patient=patient, chart_files=chart_files
    )
    status = 200
    if request.method == "POST":
        answering = _answering(history, request.POST.getlist("answering"))
        answer = _send(request, form, patient, conversation=found, answering=answering)
        if not isinstance(answer, int):
            return answer
        status = answer
        checked = {m.pk for m in answering}
    else:
        messaging_services.conversation_office_view(actor=request.actor, conversation=found)
        checked = {m.pk for m in history if _awaits_response(m)}
    rows = [HistoryRow(message=m, checked=m.pk in checked, task=_task_of(m)) for m in history]
    config = messaging_settings_for(request.actor.practice)
    context = {
        "patient": patient,
        "conversation": found,
        "category": category_name(config, found.category),
        "rows": rows,
        "page": page,
        # What the chart holds already: a patient's attachment among them is not offered again.
        "chart_blobs": {f.blob_id for f in chart_files},
        "form": form,
        "access": portal_access_for_patient(actor=request.actor, patient=patient),
        "max_bytes": settings.CLINICPORTAL_UPLOAD_MAX_BYTES,
    }
    return render(request, "office/conversation.html", context, status=status)


@require_GET
@staff_required
def message_log_view(
    request: StaffRequest, patient_id: uuid.UUID, message_id: uuid.UUID
) -> HttpResponse:
    """The message log: who wrote it, its email, when it was read and answered, its task."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    message = office_message(actor=request.actor, patient=patient, public_id=message_id)
    lines = message_log(actor=request.actor, message=message)
    messaging_services.conversation_office_view(
        actor=request.actor, conversation=message.conversation
    )
    context = {
        "patient": patient,
        "message": message,
        "conversation": message.conversation,
        "lines": lines,
        "task": _task_of(message),
    }
    return render(request, "office/message_log.html", context)


@framed_by_this_site
@require_GET
@staff_required
def message_attachment_content(
    request: StaffRequest, patient_id: uuid.UUID, attachment_id: uuid.UUID, download: bool
) -> HttpResponseBase:
    """Open a message's attachment (recorded in the audit trail)."""
    patient = patient_selectors.patient_get(actor=request.actor, public_id=patient_id)
    attachment = office_attachment(actor=request.actor, patient=patient, public_id=attachment_id)
    try:
        path = messaging_services.attachment_open(
            actor=request.actor, attachment=attachment, download=download
        )
    except FileNotFoundError:
        raise Http404(_("The stored file is missing or damaged.")) from None
    return stored_file_response(
        path=path,
        content_type=attachment.blob.content_type,
        filename=attachment.filename,
        download=download,
    )


def _send(
    request: StaffRequest,
    form: ReplyForm,
    patient: Patient,
    *,
    conversation: Conversation | None = None,
    answering: Sequence[Message] = (),
) -> HttpResponse | int:
    """Send the posted message; go to its conversation, or return the status to show the form.

    The form's one-time key makes a repeated post (a double click, a retried upload) find the
    first message instead of sending another.
    """
    if not form.is_valid():
        return 400
    data = form.cleaned_data
    try:
        sent = messaging_services.office_send(
            actor=request.actor,
            patient=patient,
            conversation=conversation,
            category=data.get("category", Category.OTHER),
            subject=data.get("subject", ""),
            draft=Draft(body=data["body"], uploads=data["attachments"], key=data["key"]),
            answering=answering,
            office_notes=data["office_notes"],
            chart_files=form.chosen_chart_files(),
            send_email=data["send_email"],
        )
    except ValidationError as exc:
        service_errors(form, exc)
        return 400
    except UploadNotFinished as exc:
        form.add_error(None, exc.message)
        return 503
    if sent.email_id is not None:
        said = _("Your message was sent. %(name)s gets an email saying a message is waiting.")
    else:
        said = _("Your message was sent to %(name)s’s portal.")
    messages.success(request, said % {"name": patient.first_name})
    url = reverse("office:conversation", args=[patient.public_id, sent.conversation.public_id])
    return redirect_after_upload(request, url)


def _answering(history: list[Message], posted: list[str]) -> list[Message]:
    """The checked messages, found among the patient's messages of this conversation only.

    An id that is not one of them (another patient's message, a made-up id) is the unknown-id
    answer, and nothing is sent.
    """
    answerable = {str(m.public_id): m for m in history if m.from_patient}
    chosen: list[Message] = []
    for value in dict.fromkeys(posted):
        try:
            key = str(uuid.UUID(value))
        except ValueError:
            raise NotFound("No such message.") from None
        if key not in answerable:
            raise NotFound("Not a message of this conversation.")
        chosen.append(answerable[key])
    return chosen


def _awaits_response(message: Message) -> bool:
    return message.from_patient and message.requests_response and message.response_at is None


def _task_of(message: Message) -> Task | None:
    try:
        return message.task  # given by the selector's select_related, or absent
    except Task.DoesNotExist:
        return None
