"""The practice's card processor: which one Admin → Payments chose, and its adapter.

Admin → Payments saves the choice (``payment_settings_save``); ``gateway_for`` builds the adapter
that starts checkouts and reads confirmations; ``online_payments_ready`` tells the portal whether
PAY BILLS can take a card.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.billing.gateways import Gateway
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
        case _:
            return None


def online_payments_ready(practice: Practice) -> bool:
    """Pay Bills is on and a processor is chosen: the portal can take a payment."""
    return practice.pay_bills_enabled and bool(payment_settings_for(practice).processor)


def payment_settings_save(*, actor: StaffActor, processor: str) -> PaymentSettings:
    """Choose the processor (admins); choosing the test processor makes its webhook secret."""
    require_admin(actor)
    if processor not in PaymentSettings.Processor.values:
        raise ValidationError({"processor": _("Please choose a processor.")})
    if processor == PaymentSettings.Processor.TEST and not settings.CLINICPORTAL_TEST_PROCESSOR:
        raise ValidationError(
            {"processor": _("The test processor takes no real money: a live site cannot use it.")}
        )
    config = payment_settings_for(actor.practice)
    config.processor = processor
    if processor == PaymentSettings.Processor.TEST and not config.webhook_secret:
        config.webhook_secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        config.save()
        audit_record(actor=actor, action=AuditEvent.Action.PAYMENT_SETTINGS_CHANGED, target=config)
    return config
