"""MESSAGES: the patient's side of secure messages with the office.

The patient (or an authorized user, as themselves) lists the conversations, starts one, reads
one and replies in it, with files. Opening a conversation records the office's messages as
read (a receipt and a LOGS row each, the only writes a GET makes here). Sending goes through
the progress bar (core/static/clinicportal/upload.js) when the browser runs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from clinicportal.content.uploads import UploadNotFinished
from clinicportal.core.files import framed_by_this_site, stored_file_response
from clinicportal.core.forms import service_errors
from clinicportal.core.http import redirect_after_upload
from clinicportal.core.pagination import counted_page
from clinicportal.core.reversing import reverse_with_id_slot
from clinicportal.messaging.models import Message
from clinicportal.messaging.selectors import (
    categories_offered,
    category_name,
    messaging_settings_for,
    portal_attachment,
    portal_conversation,
    portal_conversations,
    portal_messages,
)
from clinicportal.messaging.services import (
    Draft,
    attachment_open,
    conversation_read,
    conversation_reply,
    conversation_start,
)
from clinicportal.portal.auth import PortalRequest, portal_required, unread_recount
from clinicportal.portal.message_forms import ComposeForm, ReplyForm

CONVERSATIONS_PER_PAGE = 25
# Tells portal/base.html to mark MESSAGES as where the patient is.
SECTION = "messages"


@require_GET
@portal_required()
def message_list(request: PortalRequest) -> HttpResponse:
    """The patient's conversations, the one with the newest message first."""
    config = messaging_settings_for(request.practice)
    conversations = portal_conversations(actor=request.portal)
    page = counted_page(conversations, CONVERSATIONS_PER_PAGE, request.GET.get("page"))
    rows = [
        (conversation, category_name(config, conversation.category))
        for conversation in page.object_list
    ]
    context = {
        "page": page,
        "rows": rows,
        "conversation_url": reverse_with_id_slot("portal:conversation", request.practice.slug),
        "section": SECTION,
    }
    return render(request, "portal/messages.html", context)


@require_http_methods(["GET", "POST"])
@portal_required()
def message_new(request: PortalRequest) -> HttpResponse:
    """Write to the office: what about, a subject, the message, and files if any."""
    config = messaging_settings_for(request.practice)
    form = ComposeForm(
        request.POST or None, request.FILES or None, categories=categories_offered(config)
    )
    status = 200
    if request.method == "POST":

        def start() -> Message:
            return conversation_start(
                actor=request.portal,
                category=form.cleaned_data["category"],
                subject=form.cleaned_data["subject"],
                draft=_draft(form),
                requests_response=form.cleaned_data["requests_response"],
            )

        answer = _send(request, form, start)
        if isinstance(answer, HttpResponse):
            return answer
        status = answer
    context = {
        "form": form,
        "config": config,
        "section": SECTION,
    }
    return render(request, "portal/message_new.html", context, status=status)


@require_http_methods(["GET", "POST"])
@portal_required()
def conversation(request: PortalRequest, conversation_id: uuid.UUID) -> HttpResponse:
    """The whole conversation, oldest first, and the reply form under it.

    A GET records the office's messages shown as read, after deciding which to mark as new:
    they say "New" this once.
    """
    found = portal_conversation(actor=request.portal, public_id=conversation_id)
    form = ReplyForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":

        def reply() -> Message:
            return conversation_reply(
                actor=request.portal,
                conversation=found,
                draft=_draft(form),
                requests_response=form.cleaned_data["requests_response"],
            )

        answer = _send(request, form, reply)
        if isinstance(answer, HttpResponse):
            return answer
        status = answer
    page = portal_messages(actor=request.portal, conversation=found, cursor=request.GET.get("page"))
    history = page.rows
    new = {m.public_id for m in history if not m.from_patient and not hasattr(m, "read")}
    if request.method == "GET":
        # A refused reply (a POST shown again) writes nothing, not even the receipts.
        conversation_read(actor=request.portal, messages=history)
        unread_recount(request)
    slug = request.practice.slug
    config = messaging_settings_for(request.practice)
    context = {
        "conversation": found,
        "category": category_name(config, found.category),
        "config": config,
        "history": history,
        "page": page,
        "new": new,
        "form": form,
        "view_url": reverse_with_id_slot("portal:message_attachment_view", slug),
        "download_url": reverse_with_id_slot("portal:message_attachment_download", slug),
        "section": SECTION,
    }
    return render(request, "portal/conversation.html", context, status=status)


@framed_by_this_site
@require_GET
@portal_required()
def attachment_content(
    request: PortalRequest, attachment_id: uuid.UUID, download: bool
) -> HttpResponseBase:
    """Open a file sent with a message, in the browser or as a download (each in LOGS)."""
    attachment = portal_attachment(actor=request.portal, public_id=attachment_id)
    try:
        path = attachment_open(actor=request.portal, attachment=attachment, download=download)
    except FileNotFoundError:
        raise Http404("This file cannot be opened right now. Please call the office.") from None
    return stored_file_response(
        path=path,
        content_type=attachment.blob.content_type,
        filename=attachment.filename,
        download=download,
    )


def _draft(form: forms.Form) -> Draft:
    return Draft(
        body=form.cleaned_data["body"],
        uploads=form.cleaned_data["attachments"],
        key=form.cleaned_data["key"],
    )


def _send(
    request: PortalRequest, form: forms.Form, send: Callable[[], Message]
) -> HttpResponse | int:
    """Send the posted form's message; answer with the conversation, or the status to show the
    form again with: 400 for what the patient can correct, 503 when the storage could not take
    a file.

    A second post with the form's key finds the first's message (messaging.services) and gets
    the same answer.
    """
    if not form.is_valid():
        return 400
    try:
        message = send()
    except ValidationError as exc:
        service_errors(form, exc)
        return 400
    except UploadNotFinished as exc:
        form.add_error(None, exc.message)
        return 503
    messages.success(request, _("Your message has been sent."))
    url = reverse(
        "portal:conversation", args=[request.practice.slug, message.conversation.public_id]
    )
    return redirect_after_upload(request, url)
