"""The practice's card processor: which one Admin → Payments chose, and its adapter.

Admin → Payments saves the choice (``payment_settings_save``); ``gateway_for`` builds the adapter
that starts checkouts and reads confirmations; ``online_payments_ready`` tells the portal whether
PAY BILLS can take a card.
"""

from __future__ import annotations

import secrets

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.billing.gateways import Gateway
from clinicportal.billing.gateways.stripe_checkout import StripeCheckout, client_for
from clinicportal.billing.gateways.test_processor import TestProcessor
from clinicportal.billing.models import PaymentSettings
from clinicportal.core.access import require_admin
from clinicportal.core.context import StaffActor
from clinicportal.practices.models import Practice


def payment_settings_for(practice: Practice) -> PaymentSettings:
    """The practice's payment settings, or "off" (unsaved) when it has chosen none."""
    found = PaymentSettings.objects.filter(practice=practice).first()
    return found or PaymentSettings(practice=practice)


def gateway_for(config: PaymentSettings, processor: str | None = None) -> Gateway | None:
    """The adapter of ``processor`` (by default the chosen one), or None when there is none."""
    match processor if processor is not None else config.processor:
        case PaymentSettings.Processor.TEST if settings.CLINICPORTAL_TEST_PROCESSOR:
            return TestProcessor(
                practice_slug=config.practice.slug, webhook_secret=config.webhook_secret
            )
        case PaymentSettings.Processor.STRIPE:
            return StripeCheckout(
                secret_key=config.stripe_secret_key, webhook_secret=config.stripe_webhook_secret
            )
        case _:
            return None


def online_payments_ready(practice: Practice) -> bool:
    """Pay Bills is on and a processor is chosen: the portal can take a payment."""
    return practice.pay_bills_enabled and bool(payment_settings_for(practice).processor)


def payment_settings_save(
    *,
    actor: StaffActor,
    processor: str,
    stripe_secret_key: str = "",
    stripe_webhook_secret: str = "",
) -> PaymentSettings:
    """Choose the processor (admins), with Stripe's keys; a blank key keeps the saved one.

    Choosing the test processor makes its webhook secret. A new Stripe secret key is tried on
    Stripe before it is saved, so that a mistyped key is found now and not by a patient.
    """
    require_admin(actor)
    if processor not in PaymentSettings.Processor.values:
        raise ValidationError({"processor": _("Please choose a processor.")})
    if processor == PaymentSettings.Processor.TEST and not settings.CLINICPORTAL_TEST_PROCESSOR:
        raise ValidationError(
            {"processor": _("The test processor takes no real money: a live site cannot use it.")}
        )
    config = payment_settings_for(actor.practice)
    stripe_secret_key, stripe_webhook_secret = (
        stripe_secret_key.strip(),
        stripe_webhook_secret.strip(),
    )
    _stripe_keys_check(config, processor, stripe_secret_key, stripe_webhook_secret)
    config.processor = processor
    if processor == PaymentSettings.Processor.TEST and not config.webhook_secret:
        config.webhook_secret = secrets.token_urlsafe(32)
    if stripe_secret_key:
        config.stripe_secret_key = stripe_secret_key
    if stripe_webhook_secret:
        config.stripe_webhook_secret = stripe_webhook_secret
    with transaction.atomic():
        config.save()
        audit_record(actor=actor, action=AuditEvent.Action.PAYMENT_SETTINGS_CHANGED, target=config)
    return config


SECRET_KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")


def _stripe_keys_check(
    config: PaymentSettings, processor: str, secret_key: str, webhook_secret: str
) -> None:
    """Refuse keys that are not Stripe's, or that Stripe does not accept (ValidationError)."""
    errors: dict[str, str] = {}
    if secret_key and not secret_key.startswith(SECRET_KEY_PREFIXES):
        errors["stripe_secret_key"] = _(
            "This is not a Stripe secret key: it starts with sk_live_, sk_test_, rk_live_ or "
            "rk_test_. Copy it from Developers → API keys in your Stripe dashboard."
        )
    if webhook_secret and not webhook_secret.startswith("whsec_"):
        errors["stripe_webhook_secret"] = _(
            "This is not a webhook signing secret: it starts with whsec_. Copy it from your "
            "webhook endpoint in the Stripe dashboard."
        )
    if processor == PaymentSettings.Processor.STRIPE:
        if not (secret_key or config.stripe_secret_key):
            errors.setdefault("stripe_secret_key", _("Please enter your Stripe secret key."))
        if not (webhook_secret or config.stripe_webhook_secret):
            errors.setdefault(
                "stripe_webhook_secret", _("Please enter your webhook signing secret.")
            )
    if errors:
        raise ValidationError(errors)
    if not secret_key:
        return
    try:
        client_for(secret_key).v1.balance.retrieve()
    except (stripe.AuthenticationError, stripe.PermissionError):
        raise ValidationError(
            {"stripe_secret_key": _("Stripe did not accept this secret key. Nothing was saved.")}
        ) from None
    except stripe.StripeError:
        raise ValidationError(
            {
                "stripe_secret_key": _(
                    "Stripe could not be reached to check this key. Nothing was saved; please "
                    "try again in a few minutes."
                )
            }
        ) from None
