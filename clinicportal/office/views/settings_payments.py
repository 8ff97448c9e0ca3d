"""Admin → Payments: which processor takes the portal's card payments (Off, TEST or Stripe)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from clinicportal.billing.models import PaymentSettings
from clinicportal.billing.processors import payment_settings_for, payment_settings_save
from clinicportal.core.forms import service_errors
from clinicportal.core.http import absolute_url
from clinicportal.office.auth import StaffRequest, admin_required


class PaymentSettingsForm(forms.Form):
    processor = forms.ChoiceField(
        label=gettext_lazy("Card processor"),
        choices=[],
        widget=forms.RadioSelect,
        required=False,
    )
    stripe_secret_key = forms.CharField(
        label=gettext_lazy("Stripe secret key"),
        max_length=255,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=gettext_lazy(
            "Developers → API keys in your Stripe dashboard (sk_live_…, or a restricted key "
            "rk_live_…). Never shown again once saved. Leave empty to keep the saved one."
        ),
    )
    stripe_webhook_secret = forms.CharField(
        label=gettext_lazy("Webhook signing secret"),
        max_length=255,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=gettext_lazy(
            "The signing secret (whsec_…) of the webhook endpoint below, from the Stripe "
            "dashboard. Never shown again once saved. Leave empty to keep the saved one."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(PaymentSettings.Processor.OFF, _OFF)]
        if settings.CLINICPORTAL_TEST_PROCESSOR:  # never on a live site: it takes no money
            choices.append((PaymentSettings.Processor.TEST, _TEST))
        choices.append((PaymentSettings.Processor.STRIPE, _STRIPE))
        self.fields["processor"].choices = choices  # type: ignore[attr-defined]


_OFF = gettext_lazy("Off: patients cannot pay online")
_TEST = gettext_lazy(
    "Test processor: for trying the portal. No real card is charged and no money is received."
)
_STRIPE = gettext_lazy("Stripe: patients pay on Stripe Checkout; the money goes to your account.")


@require_http_methods(["GET", "POST"])
@admin_required
def settings_payments(request: StaffRequest) -> HttpResponse:
    config = payment_settings_for(request.actor.practice)
    form = PaymentSettingsForm(request.POST or None, initial={"processor": config.processor})
    if request.method == "POST" and form.is_valid():
        try:
            payment_settings_save(actor=request.actor, **form.cleaned_data)
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("The payment settings were saved."))
            return redirect("office:settings_payments")
    context = {
        "form": form,
        "config": config,
        "pay_bills_enabled": request.actor.practice.pay_bills_enabled,
        "stripe_webhook_url": absolute_url(
            reverse("billing:stripe_webhook", args=[request.actor.practice.slug])
        ),
        "stripe_test_mode": config.stripe_secret_key.startswith(("sk_test_", "rk_test_")),
    }
    status = 400 if form.errors else 200
    return render(request, "office/settings_payments.html", context, status=status)
