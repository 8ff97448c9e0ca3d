"""Deliver queued emails: the worker's side of the outbox.

Each email is claimed by a conditional update, sent through its practice's SMTP server, and
marked sent; failures are retried with backoff, then marked failed with the server's answer.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import escape

from clinicportal.notifications.models import EmailSettings, OutboxEmail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
SMTP_TIMEOUT = 15
SENDING_STALLED_AFTER = timedelta(minutes=10)  # far beyond SMTP_TIMEOUT for each step
# What the stored bodies say where a single-use link goes; the worker puts the link in.
LINK_PLACEHOLDER = "[single-use link, not shown]"


def enqueue_delivery(email: OutboxEmail, *, delay: timedelta | None = None) -> None:
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
                enqueue_delivery(email, delay=backoff(email.attempts))
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
                enqueue_delivery(email)
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
