"""The form of Admin → Invoices: the portal information block and whether it is pre-checked."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clinicportal.billing.models import InvoiceSettings

PORTAL_INFO_MAX = 1000  # invoice_settings_save refuses more


class InvoiceSettingsForm(forms.Form):
    portal_info = forms.CharField(
        label=InvoiceSettings._meta.get_field("portal_info").verbose_name,
        max_length=PORTAL_INFO_MAX,
        required=False,
        strip=False,  # the service tidies it; what was typed is shown again on an error
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Printed on an invoice when Portal Info is chosen. {portal_url} becomes the "
            "portal’s address and {username} the patient’s username. A password is never "
            "printed. Leave it blank for the standard wording."
        ),
    )
    include_portal_info = forms.BooleanField(
        label=InvoiceSettings._meta.get_field("include_portal_info").verbose_name,
        required=False,
        help_text=_("Portal Info starts checked on every invoice; staff can still uncheck it."),
    )

    @classmethod
    def initial_for(cls, config: InvoiceSettings) -> dict[str, Any]:
        return {
            "portal_info": config.portal_info,
            "include_portal_info": config.include_portal_info,
        }

    def service_arguments(self) -> dict[str, Any]:
        return {
            "portal_info": self.cleaned_data["portal_info"],
            "include_portal_info": self.cleaned_data["include_portal_info"],
        }
