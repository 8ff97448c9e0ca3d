"""API keys for print to portal: create, revoke and authenticate."""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicportal.accounts import throttle
from clinicportal.accounts.models import (
    ApiKey,
    LoginFailure,
)
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.access import require_admin, require_reachable
from clinicportal.core.context import (
    ApiActor,
    StaffActor,
    VisitorActor,
)

API_KEY_PREFIX = "cpk_"
# How much of a refused key the log keeps: enough to tell keys apart, never the secret part.
LOGGED_CHARS = 8

logger = logging.getLogger(__name__)


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, actor: StaffActor, name: str) -> tuple[ApiKey, str]:
    """Make a new API key for the practice (admins only); return it with the key, shown once."""
    require_admin(actor)
    name = name.strip()
    if not name:
        raise ValidationError(_("Please name the key after what will use it."))
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            practice=actor.practice,
            name=name,
            prefix=prefix,
            key_hash=api_key_hash(key),
            created_by=actor.user,
        )
        audit_record(actor=actor, action=AuditEvent.Action.API_KEY_CREATED, target=api_key)
    return api_key, key


def api_key_revoke(*, actor: StaffActor, api_key: ApiKey) -> None:
    """Stop a key working at once. Revoked keys stay listed, for the record."""
    require_admin(actor)
    require_reachable(actor, api_key)
    with transaction.atomic():
        changed = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor.user
        )
        if changed:
            audit_record(actor=actor, action=AuditEvent.Action.API_KEY_REVOKED, target=api_key)


class ApiKeysPaused(Exception):
    """Too many wrong keys from this address lately; try again after the window."""


def api_key_authenticate(*, key: str, ip: str | None, user_agent: str = "") -> ApiKey | None:
    """Return the active key that ``key`` is, noting its use; None for anything else.

    Wrong keys count against the address like failed sign-ins (ApiKeysPaused past the limit).
    A revoked key, or a wrong secret after a key's prefix, is recorded in that key's practice's
    audit trail; a key no practice has, and a paused address, in the log, with at most the
    key's first LOGGED_CHARS characters (never the secret part).
    """
    door = LoginFailure.Door.API
    if throttle.address_locked(door=door, ip=ip):
        logger.warning("API key refused: address %s is paused", ip)
        raise ApiKeysPaused()
    key = key.strip()
    parts = key.split("_", 2)
    api_key = None
    if len(parts) == 3 and f"{parts[0]}_" == API_KEY_PREFIX:
        api_key = ApiKey.objects.select_related("practice").filter(prefix=parts[1]).first()
    if api_key is None:
        throttle.login_failure_record(door=door, practice=None, username_key="", ip=ip)
        logger.warning("API key refused: unknown key %r from %s", key[:LOGGED_CHARS], ip)
        return None
    if not secrets.compare_digest(api_key.key_hash, api_key_hash(key)):
        with transaction.atomic():
            throttle.login_failure_record(door=door, practice=None, username_key="", ip=ip)
            audit_record(
                actor=VisitorActor(practice=api_key.practice, ip=ip, user_agent=user_agent),
                action=AuditEvent.Action.API_KEY_WRONG,
                target=api_key,
            )
        return None
    if not api_key.is_active:
        with transaction.atomic():
            throttle.login_failure_record(door=door, practice=None, username_key="", ip=ip)
            audit_record(
                actor=ApiActor(api_key=api_key, ip=ip, user_agent=user_agent),
                action=AuditEvent.Action.API_KEY_REFUSED,
                target=api_key,
            )
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > datetime.timedelta(minutes=1):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
