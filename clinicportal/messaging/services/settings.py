"""Save a practice's choices for secure messages (Admin → Messages)."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.access import require_admin
from clinicportal.core.context import StaffActor
from clinicportal.messaging.models import (
    Category,
    MessagingSettings,
)
from clinicportal.messaging.selectors import messaging_settings_for


def messaging_settings_save(
    *, actor: StaffActor, response_time: str, names: dict[str, str], off: Sequence[str]
) -> MessagingSettings:
    """Save the practice's response time and its names for the categories (admins only)."""
    require_admin(actor)
    response_time = " ".join(response_time.split())
    errors: dict[str, str] = {}
    if not response_time:
        errors["response_time"] = _("Please say how soon patients can expect a reply.")
    if set(off) >= set(Category.values):
        errors["categories_off"] = _("Please leave at least one category on.")
    if errors:
        raise ValidationError(errors)
    config = messaging_settings_for(actor.practice)
    config.response_time = response_time[:100]
    config.category_names = {
        key: " ".join(name.split())[:60]
        for key, name in names.items()
        if key in Category.values and " ".join(name.split())
    }
    config.categories_off = [key for key in Category.values if key in off]
    with transaction.atomic():
        config.save()
        audit_record(
            actor=actor, action=AuditEvent.Action.MESSAGING_SETTINGS_CHANGED, target=config
        )
    return config
