"""Admin → Messages: how soon the practice replies, and the categories patients choose from."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinicportal.core.forms import service_errors
from clinicportal.messaging.selectors import messaging_settings_for
from clinicportal.messaging.services import messaging_settings_save
from clinicportal.office.auth import StaffRequest, admin_required
from clinicportal.office.message_settings_forms import MessageSettingsForm


@require_http_methods(["GET", "POST"])
@admin_required
def settings_messages(request: StaffRequest) -> HttpResponse:
    config = messaging_settings_for(request.actor.practice)
    form = MessageSettingsForm(
        request.POST or None, initial=MessageSettingsForm.initial_for(config)
    )
    if request.method == "POST" and form.is_valid():
        try:
            messaging_settings_save(actor=request.actor, **form.service_arguments())
        except ValidationError as exc:
            service_errors(form, exc, rename={"categories_off": "offered"})
        else:
            messages.success(request, _("The message settings were saved."))
            return redirect("office:settings_messages")
    status = 400 if form.errors else 200
    return render(request, "office/settings_messages.html", {"form": form}, status=status)
