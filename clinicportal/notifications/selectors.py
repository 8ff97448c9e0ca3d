"""Reads of the outbox and email settings, scoped to the actor's practice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from clinicportal.core.context import StaffActor
from clinicportal.notifications.delivery import lease
from clinicportal.notifications.models import (
    STAFF_SIGN_IN_KIND,
    EmailSettings,
    OutboxEmail,
    WorkerHeartbeat,
)
from clinicportal.practices.models import Practice


def outbox_for_practice(*, actor: StaffActor) -> QuerySet[OutboxEmail]:
    """The practice's emails that ``actor`` may see: all of them for an admin; for others,
    not a colleague's notice of their own sign-in (STAFF_SIGN_IN_KIND)."""
    emails = OutboxEmail.objects.filter(practice=actor.practice)
    if actor.is_admin:
        return emails
    return emails.filter(~Q(kind=STAFF_SIGN_IN_KIND) | Q(to=actor.user.email))


def outbox_email_get(*, actor: StaffActor, public_id: uuid.UUID) -> OutboxEmail:
    try:
        return outbox_for_practice(actor=actor).get(public_id=public_id)
    except OutboxEmail.DoesNotExist:
        raise Http404("No such email.") from None


def email_settings_for(*, actor: StaffActor) -> EmailSettings | None:
    return EmailSettings.objects.filter(practice=actor.practice).first()


@dataclass(frozen=True)
class WorkerState:
    """Whether some background worker is alive: its newest heartbeat is younger than a lease."""

    last_seen: datetime | None
    running: bool


def worker_state() -> WorkerState:
    """The workers' state, for every practice alike (the worker serves them all)."""
    return _worker_state(WorkerHeartbeat.objects.aggregate(last=Max("last_seen"))["last"])


def _worker_state(last_seen: datetime | None) -> WorkerState:
    running = last_seen is not None and last_seen >= timezone.now() - lease()
    return WorkerState(last_seen=last_seen, running=running)


def outbox_alerts(*, actor: StaffActor) -> tuple[int, WorkerState]:
    """How many of the practice's emails failed, and ``worker_state``: one query, for the
    patient list's banners."""
    failed = (
        OutboxEmail.objects.filter(practice=OuterRef("pk"), status=OutboxEmail.Status.FAILED)
        .order_by()
        .values("practice")
        .annotate(n=Count("pk"))
        .values("n")
    )
    newest = WorkerHeartbeat.objects.order_by("-last_seen").values("last_seen")[:1]
    row = (
        Practice.objects.filter(pk=actor.practice.pk)
        .annotate(failed=Coalesce(Subquery(failed), 0), last_seen=Subquery(newest))
        .values("failed", "last_seen")
        .get()
    )
    return row["failed"], _worker_state(row["last_seen"])
