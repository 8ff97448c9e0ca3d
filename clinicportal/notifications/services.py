"""Queue emails in the outbox (clinicportal.notifications.delivery sends them).

An email is an outbox row written in the caller's transaction, and the outbox is its own queue:
the worker finds the row once it commits, so no email is lost between a commit and an enqueue.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.access import require_reachable
from clinicportal.core.context import StaffActor
from clinicportal.notifications.delivery import LINK_PLACEHOLDER, new_message_id
from clinicportal.notifications.models import EmailAttachment, EmailSettings, OutboxEmail
from clinicportal.notifications.smtp_hosts import smtp_server_check
from clinicportal.practices.models import Practice

logger = logging.getLogger(__name__)


def email_queue(
    *,
    practice: Practice,
    to: str,
    template: str,
    context: dict[str, Any],
    link: str = "",
    attachments: Sequence[EmailAttachment] = (),
) -> OutboxEmail:
    """Render ``emails/<template>-{subject,body}.{txt,html}`` and queue it for ``to``, with
    ``attachments`` (small text files made for it, such as a calendar invitation).

    Call inside the transaction that causes the email. Emails carry no health information:
    templates say only that something is waiting, with the portal link. A single-use ``link``
    (the templates' ``{{ link }}``) is never stored in the body: it is kept encrypted until the
    worker has sent the email, and forgotten then.
    """
    context = {"practice": practice, **context}
    if link:
        context["link"] = LINK_PLACEHOLDER
    # Dates and times are the practice's, whoever queues the email: a page already runs in the
    # practice's zone, but the worker (a password reset is queued by a task) runs in none.
    with timezone.override(practice.zone):
        subject = " ".join(_plain(f"emails/{template}-subject.txt", context).split())
        body_text = _plain(f"emails/{template}-body.txt", context)
        body_html = render_to_string(f"emails/{template}-body.html", context)
    email = OutboxEmail.objects.create(
        practice=practice,
        kind=template,
        to=to,
        subject=subject[:255],
        body_text=body_text,
        body_html=body_html,
        secret_link=link,
        attachments=[dataclasses.asdict(attachment) for attachment in attachments],
        message_id=new_message_id(),
    )
    return email


def _plain(name: str, context: dict[str, Any]) -> str:
    """A plain-text template, rendered without HTML escaping: "Smith & Jones" stays so."""
    template = get_template(name).template  # type: ignore[attr-defined]
    return str(template.render(Context(context, autoescape=False)))


def email_settings_save(
    *,
    actor: StaffActor,
    host: str,
    port: int,
    security: str,
    username: str,
    password: str | None,
    from_address: str,
) -> EmailSettings:
    """Save the practice's SMTP settings; ``password`` None keeps the stored one."""
    if not actor.is_admin:
        raise PermissionDenied("Only admins change email settings.")
    config = EmailSettings.objects.filter(practice=actor.practice).first() or EmailSettings(
        practice=actor.practice
    )
    config.host, config.port, config.security = host.strip(), port, security
    config.username, config.from_address = username.strip(), from_address.strip()
    if password is not None:
        config.password = password
    config.full_clean()
    smtp_server_check(host=config.host, port=config.port, security=config.security)
    with transaction.atomic():
        config.save()
        # Where reset links go depends on these: who changed them, and when, is on record.
        audit_record(actor=actor, action=AuditEvent.Action.EMAIL_SETTINGS_CHANGED, target=config)
    return config


def email_send_test(*, actor: StaffActor, to: str) -> OutboxEmail:
    """Queue a test email, to check the practice's settings end to end."""
    if not to:
        raise ValidationError({"to": _("Please enter an address to send the test email to.")})
    with transaction.atomic():
        return email_queue(
            practice=actor.practice, to=to, template="test", context={"sender": actor.name}
        )


class NotFailed(Exception):
    """Only a failed email can be sent again; this one is queued, sending, sent or replaced."""


def outbox_email_send_again(
    *, actor: StaffActor, email: OutboxEmail, replacement: OutboxEmail | None = None
) -> None:
    """Send a failed email again, and record who did; call inside a transaction.

    Without ``replacement`` the same email is queued again from a first attempt. An email that
    carried a single-use link is replaced instead by a new email with a new link (its own link
    was forgotten when it failed; see accounts' email_send_again). A second press, or two at
    once, finds the email no longer failed and raises NotFailed, changing nothing.
    """
    require_reachable(actor, email)
    failed = OutboxEmail.objects.filter(
        pk=email.pk, status=OutboxEmail.Status.FAILED, sent_again_as__isnull=True
    )
    if replacement is not None:
        changed = failed.update(sent_again_as=replacement)
    elif LINK_PLACEHOLDER in email.body_text:
        raise ValueError("An email with a single-use link is sent again as a new email.")
    else:
        changed = failed.update(
            status=OutboxEmail.Status.QUEUED, attempts=0, next_attempt_at=None, last_error=""
        )
    if not changed:
        raise NotFailed
    audit_record(actor=actor, action=AuditEvent.Action.OUTBOX_EMAIL_RESENT, target=email)


def outbox_email_view(*, actor: StaffActor, email: OutboxEmail) -> None:
    """Record that a staff member opened one outbox email (emails name patients' addresses)."""
    require_reachable(actor, email)
    with transaction.atomic():
        audit_record(actor=actor, action=AuditEvent.Action.OUTBOX_EMAIL_VIEWED, target=email)


def outbox_forget_sent_text() -> int:
    """Forget the text and files of emails sent more than CLINICPORTAL_OUTBOX_TEXT_DAYS ago,
    and of failed ones queued that long ago that were sent again as new emails; return how
    many. What an email said is needed while someone may ask about it, not for good; that it
    was sent (or not), to whom, when and with which subject stays, for the Outbox and for the
    messages whose notice it was. Queued emails, and failed ones not sent again, keep theirs,
    to be sent."""
    now = timezone.now()
    long_ago = now - timedelta(days=settings.CLINICPORTAL_OUTBOX_TEXT_DAYS)
    sent = Q(status=OutboxEmail.Status.SENT, sent_at__lt=long_ago)
    replaced = Q(
        status=OutboxEmail.Status.FAILED, sent_again_as__isnull=False, created_at__lt=long_ago
    )
    return OutboxEmail.objects.filter(sent | replaced, text_forgotten_at__isnull=True).update(
        body_text="", body_html="", attachments=[], text_forgotten_at=now
    )
