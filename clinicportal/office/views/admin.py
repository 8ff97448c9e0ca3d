"""Admin: Website (practice and library), Email Settings and API keys."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicportal.accounts.selectors import (
    api_key_get,
    api_keys,
)
from clinicportal.accounts.services import api_keys as api_keys_services
from clinicportal.content.uploads import UploadNotFinished
from clinicportal.core.forms import service_errors
from clinicportal.core.http import absolute_url, office_absolute_url
from clinicportal.notifications.selectors import (
    email_settings_for,
)
from clinicportal.notifications.services import email_send_test, email_settings_save
from clinicportal.office.auth import StaffRequest, admin_required
from clinicportal.office.forms import (
    ApiKeyForm,
    EmailSettingsForm,
    PracticeForm,
    ReplaceFileForm,
    SystemDocumentForm,
    TestEmailForm,
)
from clinicportal.office.once import Private, Sent, submit_once
from clinicportal.office.views.common import upload_submit
from clinicportal.practices import services as practice_services
from clinicportal.practices.selectors import (
    library_documents,
    system_document_get,
)
from clinicportal.practices.services import practice_update


@admin_required
def settings_index(request: StaffRequest) -> HttpResponse:
    return redirect("office:settings_website")


@require_http_methods(["GET", "POST"])
@admin_required
def settings_website(request: StaffRequest) -> HttpResponse:
    practice = request.actor.practice
    initial = {name: getattr(practice, name) for name in PracticeForm.base_fields}
    form = PracticeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            practice_update(actor=request.actor, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The practice settings were saved."))
            return redirect("office:settings_website")
    return _website(request, form=form)


def _website(
    request: StaffRequest,
    *,
    form: PracticeForm | None = None,
    library_form: SystemDocumentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    practice = request.actor.practice
    if form is None:
        form = PracticeForm(
            initial={name: getattr(practice, name) for name in PracticeForm.base_fields}
        )
    context = {
        "form": form,
        "portal_url": absolute_url(practice.portal_path()),
        "library": library_documents(actor=request.actor),
        "library_form": library_form or SystemDocumentForm(),
        "replace_form": ReplaceFileForm(),
    }
    return render(request, "office/settings_website.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def settings_api_keys(request: StaffRequest) -> HttpResponse:
    """Admin → API keys: list, create (the key is shown once), and the way to revoke."""
    form = ApiKeyForm(request.POST or None)

    def make() -> Sent:
        api_key, key = api_keys_services.api_key_create(
            actor=request.actor, name=form.cleaned_data["name"]
        )
        again = _(
            "This form was already sent: the key for “%(name)s” was made and shown once. If it "
            "was not kept, revoke it and make another."
        ) % {"name": api_key.name}
        created = {"name": api_key.name, "key": key}
        return Sent(reverse("office:settings_api_keys"), again, private=created)

    def page(created: Private) -> HttpResponse:
        return _api_keys(request, ApiKeyForm(), created)

    if request.method == "POST" and form.is_valid():
        try:
            # Shown in this answer only (never_cache), like a credentials slip: the key is
            # kept nowhere else, not even for a repeat of this post (show_again=False).
            return submit_once(
                request, actor=request.actor, write=make, page=page, show_again=False
            )
        except ValidationError as exc:
            form.add_error("name", exc)
    return _api_keys(request, form, None)


def _api_keys(request: StaffRequest, form: ApiKeyForm, created: Private | None) -> HttpResponse:
    context = {
        "form": form,
        "keys": api_keys(actor=request.actor),
        "created": created,
        "api_url": office_absolute_url(""),
    }
    status = 400 if form.errors else 200
    return render(request, "office/settings_api_keys.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def api_key_revoke(request: StaffRequest, key_id: uuid.UUID) -> HttpResponse:
    api_key = api_key_get(actor=request.actor, public_id=key_id)
    if request.method == "POST":
        api_keys_services.api_key_revoke(actor=request.actor, api_key=api_key)
        messages.success(
            request, _("The key for “%(name)s” no longer works.") % {"name": api_key.name}
        )
        return redirect("office:settings_api_keys")
    return render(request, "office/api_key_revoke.html", {"api_key": api_key})


@require_http_methods(["GET", "POST"])
@admin_required
def settings_email(request: StaffRequest) -> HttpResponse:
    config = email_settings_for(actor=request.actor)
    initial = (
        {
            name: getattr(config, name)
            for name in EmailSettingsForm.base_fields
            if name != "password"
        }
        if config
        else {}
    )
    form = EmailSettingsForm(request.POST or None, initial=initial)
    test_form = TestEmailForm(initial={"to": request.actor.user.email})
    if request.method == "POST" and request.POST.get("action") == "test":
        test_form = TestEmailForm(request.POST)
        form = EmailSettingsForm(initial=initial)
        if test_form.is_valid():
            to = test_form.cleaned_data["to"]
            return submit_once(request, actor=request.actor, write=lambda: _send_test(request, to))
    elif request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            email_settings_save(
                actor=request.actor, **{**data, "password": data["password"] or None}
            )
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("Email settings saved."))
            return redirect("office:settings_email")
    return render(
        request,
        "office/settings_email.html",
        {"form": form, "test_form": test_form, "config": config},
    )


def _send_test(request: StaffRequest, to: str) -> Sent:
    email_send_test(actor=request.actor, to=to)
    return Sent(
        reverse("office:settings_email"),
        _("A test email is queued. Its status shows in the Outbox."),
    )


@require_POST
@admin_required
def library_add(request: StaffRequest) -> HttpResponse:
    form = SystemDocumentForm(request.POST, request.FILES)

    def add() -> Sent:
        practice_services.system_document_add(
            actor=request.actor,
            upload=form.cleaned_data["upload"],
            description=form.cleaned_data["description"],
        )
        return Sent(
            reverse("office:settings_website") + "#library", _("The document is in the library.")
        )

    answer = upload_submit(request, form, add, lambda exc: service_errors(form, exc))
    if not isinstance(answer, int):
        return answer
    return _website(request, library_form=form, status=answer)


@require_POST
@admin_required
def library_replace(request: StaffRequest, document_id: uuid.UUID) -> HttpResponse:
    document = system_document_get(actor=request.actor, public_id=document_id)
    form = ReplaceFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            practice_services.system_document_replace(
                actor=request.actor, document=document, upload=form.cleaned_data["upload"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except UploadNotFinished as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("“%(description)s” now has the new file.")
                % {"description": document.description},
            )
    else:
        messages.error(request, _("Please choose the new file."))
    return redirect(reverse("office:settings_website") + "#library")


@require_POST
@admin_required
def library_retire(request: StaffRequest, document_id: uuid.UUID) -> HttpResponse:
    document = system_document_get(actor=request.actor, public_id=document_id)
    retire = request.POST.get("retired") == "1"
    practice_services.system_document_retire(actor=request.actor, document=document, retired=retire)
    if retire:
        message = _("“%(description)s” is retired.") % {"description": document.description}
    else:
        message = _("“%(description)s” can be assigned again.") % {
            "description": document.description
        }
    messages.success(request, message)
    return redirect(reverse("office:settings_website") + "#library")
