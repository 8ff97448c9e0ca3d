"""Admin → Invoices: the portal information printed on invoices, and whether it is pre-checked."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinicportal.billing.selectors import invoice_settings_for
from clinicportal.billing.services import invoice_settings_save
from clinicportal.core.forms import service_errors
from clinicportal.office.auth import StaffRequest, admin_required
from clinicportal.office.invoice_settings_forms import InvoiceSettingsForm


@require_http_methods(["GET", "POST"])
@admin_required
def settings_invoices(request: StaffRequest) -> HttpResponse:
    config = invoice_settings_for(request.actor.practice)
    form = InvoiceSettingsForm(
        request.POST or None, initial=InvoiceSettingsForm.initial_for(config)
    )
    if request.method == "POST" and form.is_valid():
        try:
            invoice_settings_save(actor=request.actor, **form.service_arguments())
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("The invoice settings were saved."))
            return redirect("office:settings_invoices")
    status = 400 if form.errors else 200
    return render(request, "office/settings_invoices.html", {"form": form}, status=status)
