"""Reads of the outbox and email settings, scoped to the actor's practice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, QuerySet
from django.http import Http404
from django.utils import timezone

from clinicportal.core.context import StaffActor
from clinicportal.notifications.delivery import lease
from clinicportal.notifications.models import EmailSettings, OutboxEmail, WorkerHeartbeat


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


@dataclass(frozen=True)
class WorkerState:
    """Whether some background worker is alive: its newest heartbeat is younger than a lease."""

    last_seen: datetime | None
    running: bool


def worker_state() -> WorkerState:
    """The workers' state, for every practice alike (the worker serves them all)."""
    last_seen = WorkerHeartbeat.objects.aggregate(last=Max("last_seen"))["last"]
    running = last_seen is not None and last_seen >= timezone.now() - lease()
    return WorkerState(last_seen=last_seen, running=running)
