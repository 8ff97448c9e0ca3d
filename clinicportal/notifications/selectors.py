"""Reads of the outbox and email settings, scoped to the actor's practice."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from clinicportal.core.context import StaffActor
from clinicportal.notifications.models import EmailSettings, OutboxEmail


def outbox_for_practice(*, actor: StaffActor) -> QuerySet[OutboxEmail]:
    return OutboxEmail.objects.filter(practice=actor.practice)


def outbox_email_get(*, actor: StaffActor, public_id: uuid.UUID) -> OutboxEmail:
    try:
        return OutboxEmail.objects.get(practice=actor.practice, public_id=public_id)
    except OutboxEmail.DoesNotExist:
        raise Http404("No such email.") from None


def outbox_failed_count(*, actor: StaffActor) -> int:
    return OutboxEmail.objects.filter(
        practice=actor.practice, status=OutboxEmail.Status.FAILED
    ).count()


def email_settings_for(*, actor: StaffActor) -> EmailSettings | None:
    return EmailSettings.objects.filter(practice=actor.practice).first()
