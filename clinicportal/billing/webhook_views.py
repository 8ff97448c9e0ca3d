"""Where processors talk to us (the webhook), and the TEST processor's own page.

These answer machines and the patient's browser on its way through a processor, not a signed-in
user, so they live beside the payments they serve (``config/urls.py`` mounts them at /pay/).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from clinicportal.billing.gateways import BadSignature
from clinicportal.billing.gateways.test_processor import TestProcessor, session_read
from clinicportal.billing.models import PaymentSettings
from clinicportal.billing.payments import UnknownPayment, payment_confirm
from clinicportal.billing.processors import gateway_for, payment_settings_for
from clinicportal.core.money import dollars
from clinicportal.practices.selectors import practice_by_slug


@csrf_exempt  # a processor's post, proved by its signature; no cookies are read
@require_POST
def webhook(request: HttpRequest, practice_slug: str) -> JsonResponse:
    """The TEST processor's signed confirmation (its page confirms in-process; see below)."""
    return _confirm(request, practice_slug, PaymentSettings.Processor.TEST)


@csrf_exempt  # Stripe's post, proved by its Stripe-Signature; no cookies are read
@require_POST
def stripe_webhook(request: HttpRequest, practice_slug: str) -> JsonResponse:
    """The endpoint a practice gives Stripe for its Checkout events."""
    return _confirm(request, practice_slug, PaymentSettings.Processor.STRIPE)


def _confirm(request: HttpRequest, practice_slug: str, processor: str) -> JsonResponse:
    """200 once recorded (or recorded before), declined or ignored; 400 for anything else."""
    try:
        practice = practice_by_slug(practice_slug)
    except Http404:  # no practice to hold a secret: no signature of it can be right
        return JsonResponse({"error": "bad_signature"}, status=400)
    try:
        # In the practice's time zone: the receipt email is dated the practice's day.
        with timezone.override(practice.zone):
            status = payment_confirm(
                practice=practice,
                processor=processor,
                payload=request.body,
                headers=request.headers,
            )
    except BadSignature:
        return JsonResponse({"error": "bad_signature"}, status=400)
    except UnknownPayment:
        return JsonResponse({"error": "unknown_payment"}, status=400)
    return JsonResponse({"status": status})


@require_http_methods(["GET", "POST"])
def test_processor(request: HttpRequest, session: str) -> HttpResponse:
    """The TEST processor's payment page: Pay or Decline; no card, no real money."""
    found = session_read(session)
    if found is None:
        raise Http404("No such checkout.")
    practice = practice_by_slug(found.practice_slug)
    config = payment_settings_for(practice)
    if not isinstance(gateway_for(config), TestProcessor) or not config.webhook_secret:
        raise Http404("No such checkout.")
    error = ""
    if request.method == "POST":
        paid = request.POST.get("action") == "pay"
        processor = TestProcessor(practice_slug=practice.slug, webhook_secret=config.webhook_secret)
        payload, headers = processor.confirmation_make(found, paid=paid)
        # Sent to the webhook's own code path, in this process: a real processor posts the
        # same signed body to /pay/webhook/<practice>/ and it is verified the same way.
        try:
            with timezone.override(practice.zone):  # as the webhook: the receipt's date
                payment_confirm(
                    practice=practice,
                    processor=PaymentSettings.Processor.TEST,
                    payload=payload,
                    headers=headers,
                )
        except (BadSignature, UnknownPayment):
            error = _("The practice did not accept this payment's confirmation.")
        else:
            return HttpResponseRedirect(found.success_url if paid else found.cancel_url)
    context = {
        "checkout": found,
        "practice": practice,
        "amount": dollars(found.amount_cents),
        "error": error,
    }
    return render(request, "billing/test_processor.html", context, status=400 if error else 200)
