"""Queue emails in the outbox and deliver them with retries.

An email is an outbox row written in the caller's transaction, together with the job that will
send it: the task queue lives in the same database, so both commit or neither does, and no
email is lost between a commit and an enqueue.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.context import StaffActor, require_own_practice
from clinicportal.notifications.models import EmailSettings, OutboxEmail
from clinicportal.practices.models import Practice

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SMTP_TIMEOUT = 15
SENDING_STALLED_AFTER = timedelta(minutes=10)  # far beyond SMTP_TIMEOUT for each step
# What the stored bodies say where a single-use link goes; the worker puts the link in.
LINK_PLACEHOLDER = "[single-use link, not shown]"


def email_queue(
    *, practice: Practice, to: str, template: str, context: dict[str, Any], link: str = ""
) -> OutboxEmail:
    """Render ``emails/<template>-{subject,body}.{txt,html}`` and queue it for ``to``.

    Call inside the transaction that causes the email. Emails carry no health information:
    templates say only that something is waiting, with the portal link. A single-use ``link``
    (the templates' ``{{ link }}``) is never stored in the body: it is kept encrypted until the
    worker has sent the email, and forgotten then.
    """
    context = {"practice": practice, **context}
    if link:
        context["link"] = LINK_PLACEHOLDER
    subject = " ".join(render_to_string(f"emails/{template}-subject.txt", context).split())
    email = OutboxEmail.objects.create(
        practice=practice,
        kind=template,
        to=to,
        subject=subject[:255],
        body_text=render_to_string(f"emails/{template}-body.txt", context),
        body_html=render_to_string(f"emails/{template}-body.html", context),
        secret_link=link,
    )
    _enqueue(email)
    return email


def _enqueue(email: OutboxEmail, *, delay: timedelta | None = None) -> None:
    from clinicportal.notifications.tasks import deliver_email

    if delay is None:
        deliver_email.enqueue(email.pk)
    else:
        deliver_email.using(run_after=timezone.now() + delay).enqueue(email.pk)


def backoff(attempts: int) -> timedelta:
    """Wait 1, 2, 4 ... minutes between attempts, at most two hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 120))


def email_deliver(*, email_id: int) -> str:
    """Send one queued email through its practice's SMTP server; return its new status.

    The row is claimed with a conditional update, so two workers never send it twice.
    """
    claimed = OutboxEmail.objects.filter(pk=email_id, status=OutboxEmail.Status.QUEUED).update(
        status=OutboxEmail.Status.SENDING,
        attempts=F("attempts") + 1,
        # While sending, this is when to give up on the worker: see outbox_requeue_stalled.
        next_attempt_at=timezone.now() + SENDING_STALLED_AFTER,
    )
    if not claimed:
        return "skipped"
    email = OutboxEmail.objects.select_related("practice__email_settings").get(pk=email_id)
    try:
        _send(email)
    except (smtplib.SMTPException, OSError, EmailSettings.DoesNotExist) as exc:
        error = _describe(exc)
        with transaction.atomic():
            if email.attempts >= MAX_ATTEMPTS:
                email.status = OutboxEmail.Status.FAILED
                email.next_attempt_at = None
                email.secret_link = ""  # never sent: nobody is to know the link now
            else:
                email.status = OutboxEmail.Status.QUEUED
                email.next_attempt_at = timezone.now() + backoff(email.attempts)
                _enqueue(email, delay=backoff(email.attempts))
            email.last_error = error
            email.save(update_fields=["status", "next_attempt_at", "last_error", "secret_link"])
        logger.warning("email %s not sent (attempt %s): %s", email.pk, email.attempts, error)
        return email.status
    email.status = OutboxEmail.Status.SENT
    email.sent_at = timezone.now()
    email.next_attempt_at = None
    email.secret_link = ""  # out: the link now exists only in the mailbox, and as a hash
    email.save(update_fields=["status", "sent_at", "next_attempt_at", "secret_link"])
    return email.status


def outbox_requeue_stalled() -> int:
    """Queue again emails left "sending" by a worker that stopped mid-way; return how many.

    The server may or may not have taken such an email, so it can arrive twice; that is
    better than never. Past MAX_ATTEMPTS it is marked failed instead, for the Outbox page.
    """
    stalled = OutboxEmail.objects.filter(
        status=OutboxEmail.Status.SENDING, next_attempt_at__lt=timezone.now()
    )
    count = 0
    for email in stalled.order_by("pk"):
        with transaction.atomic():
            gave_up = email.attempts >= MAX_ATTEMPTS
            status = OutboxEmail.Status.FAILED if gave_up else OutboxEmail.Status.QUEUED
            moved = OutboxEmail.objects.filter(
                pk=email.pk, status=OutboxEmail.Status.SENDING
            ).update(
                status=status,
                next_attempt_at=None if gave_up else timezone.now(),
                **({"secret_link": ""} if gave_up else {}),
                last_error="The worker stopped while sending; it may or may not have gone out.",
            )
            if moved and not gave_up:
                _enqueue(email)
            count += moved
    return count


def _send(email: OutboxEmail) -> None:
    config = email.practice.email_settings
    # One mailer per practice, built from its own settings (MAILERS in settings.py is static).
    mailer = SMTPBackend(
        alias=f"practice-{email.practice_id}",
        host=config.host,
        port=config.port,
        username=config.username or None,
        password=config.password or None,
        use_tls=config.security == EmailSettings.Security.STARTTLS,
        use_ssl=config.security == EmailSettings.Security.TLS,
        timeout=SMTP_TIMEOUT,
    )
    text, html = email.body_text, email.body_html
    if email.secret_link:
        text = text.replace(LINK_PLACEHOLDER, email.secret_link)
        html = html.replace(LINK_PLACEHOLDER, escape(email.secret_link))
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=text,
        from_email=f"{email.practice.name} <{config.from_address}>",
        to=[email.to],
    )
    message.attach_alternative(html, "text/html")
    if mailer.send_messages([message]) != 1:
        raise smtplib.SMTPException("The mail server did not accept the message.")


def _describe(exc: Exception) -> str:
    if isinstance(exc, EmailSettings.DoesNotExist):
        return "Email is not set up for this practice: see Admin → Email Settings."
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"The mail server answered {exc.smtp_code}: {detail}"[:1000]
    return f"{type(exc).__name__}: {exc}"[:1000]


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
    with transaction.atomic():
        config.save()
        # Where reset links go depends on these: who changed them, and when, is on record.
        audit_record(actor=actor, action=AuditEvent.Action.EMAIL_SETTINGS_CHANGED, target=config)
    return config


def email_send_test(*, actor: StaffActor, to: str) -> OutboxEmail:
    """Queue a test email, to check the practice's settings end to end."""
    if not to:
        raise ValidationError({"to": "Please enter an address to send the test email to."})
    with transaction.atomic():
        return email_queue(
            practice=actor.practice, to=to, template="test", context={"sender": actor.name}
        )


def outbox_email_view(*, actor: StaffActor, email: OutboxEmail) -> None:
    """Record that a staff member opened one outbox email (emails name patients' addresses)."""
    require_own_practice(actor, email)
    with transaction.atomic():
        audit_record(actor=actor, action=AuditEvent.Action.OUTBOX_EMAIL_VIEWED, target=email)
