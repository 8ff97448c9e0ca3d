"""Deliver queued emails: the worker's side of the outbox.

Each email is claimed by a conditional update, sent through its practice's SMTP server, and
marked sent; failures are retried with backoff, then marked failed with the server's answer.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import smtplib
import time
from collections.abc import Callable
from datetime import timedelta
from email.message import MIMEPart
from email.utils import make_msgid
from typing import NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinicportal.core.logformat import error_code
from clinicportal.notifications.models import EmailAttachment, EmailSettings, OutboxEmail
from clinicportal.notifications.smtp_hosts import smtp_server_check

logger = logging.getLogger(__name__)

# About two and a half hours of attempts, at most BACKOFF_CAP apart, before an email is failed.
MAX_ATTEMPTS = 30
BACKOFF_CAP = timedelta(minutes=5)
SMTP_TIMEOUT = 15
BATCH = 50  # emails claimed at once, in one commit, sent over one connection per practice
RECORD_EVERY = 10  # sent emails recorded in one commit: at most this many go twice after a kill
# What the stored bodies say where a single-use link goes; the worker puts the link in.
LINK_PLACEHOLDER = "[single-use link, not shown]"
# The errors below are translated when they are stored as an email's last_error, which the
# Outbox shows as it is: the worker runs in the site's language (LANGUAGE_CODE), as the staff
# read it. Were staff ever to read in several languages, store a code and translate at display.
STOPPED_MID_SEND = gettext_noop(
    "The worker stopped while sending, so the mail server may already have it; it is sent again "
    "with the same Message-ID."
)
STOPPED_ON_LAST_ATTEMPT = gettext_noop("The worker stopped while sending, on the last attempt.")


def lease() -> timedelta:
    """How long a claim on an email holds unless the claiming worker's heartbeat renews it."""
    return timedelta(seconds=settings.CLINICPORTAL_WORKER_LEASE_SECONDS)


def new_message_id() -> str:
    """A Message-ID for a new email, under the portal's own host name."""
    return make_msgid(domain=urlsplit(settings.CLINICPORTAL_BASE_URL).hostname)


def backoff(attempts: int) -> timedelta:
    """Wait 1, 2, 4 minutes between attempts, then BACKOFF_CAP: a mail server back after an
    outage has the queue moving again within a few minutes."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def outbox_send_due(*, worker_id: str, only: int | None = None) -> int:
    """Claim up to BATCH due emails, send them, record each outcome; return how many were claimed.

    The outbox is its own queue: a queued row is due once ``next_attempt_at`` (if any) has
    passed. Claiming is one conditional update (rows another worker holds are skipped), and the
    claim is a lease: if this worker dies mid-way, another takes the emails up once the lease
    has run out (outbox_reclaim_expired). Each practice's emails go over one SMTP connection, and
    the outcomes are written through database faults, so a restart of the database does not
    cause a second copy of an email the server already took.
    """
    emails = _claim_due(worker_id=worker_id, only=only)
    for _practice_id, group in itertools.groupby(emails, key=lambda email: email.practice_id):
        for email, error, code in _send_group(list(group)):
            # The server's answer may quote the address it refused: it goes to the Outbox (for
            # staff) only; the log gets the error's type and code.
            logger.warning("email %s not sent (attempt %s): %s", email.pk, email.attempts, code)
            persist(functools.partial(_attempt_failed, email, error, worker_id))
    return len(emails)


def _claim_due(*, worker_id: str, only: int | None) -> list[OutboxEmail]:
    now = timezone.now()
    due = OutboxEmail.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=OutboxEmail.Status.QUEUED,
    )
    if only is not None:
        due = due.filter(pk=only)
    with transaction.atomic():
        ids = list(
            due.order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return []
        OutboxEmail.objects.filter(pk__in=ids, status=OutboxEmail.Status.QUEUED).update(
            status=OutboxEmail.Status.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=None,
            claimed_by=worker_id,
            lease_until=now + lease(),
        )
    claimed = OutboxEmail.objects.filter(
        pk__in=ids, status=OutboxEmail.Status.SENDING, claimed_by=worker_id
    )
    return list(claimed.select_related("practice__email_settings").order_by("practice_id", "pk"))


class Failure(NamedTuple):
    email: OutboxEmail
    error: str  # for the Outbox: the server's answer, in the site's language
    code: str  # for the log: the error's type and code, nothing the server quoted


def _failure(email: OutboxEmail, exc: Exception) -> Failure:
    return Failure(email, _describe(exc), error_code(exc))


def _send_group(emails: list[OutboxEmail]) -> list[Failure]:
    """Send one practice's emails over one connection, recording the sent ones as it goes
    (every RECORD_EVERY, so a killed worker leaves few to send twice); return the failures."""
    sent: list[int] = []
    failures: list[Failure] = []
    try:
        config = emails[0].practice.email_settings
        # Again here: what the server's name resolves to may have changed since it was saved.
        smtp_server_check(host=config.host, port=config.port, security=config.security)
        mailer = _mailer(emails[0].practice_id, config)
        mailer.open()
    except (smtplib.SMTPException, OSError, EmailSettings.DoesNotExist, ValidationError) as exc:
        return [_failure(email, exc) for email in emails]
    broken: Exception | None = None  # once the connection is lost, the rest wait for next time
    try:
        for email in emails:
            if broken:
                failures.append(_failure(email, broken))
                continue
            try:
                if mailer.send_messages([_message(email, config)]) != 1:
                    raise smtplib.SMTPException(_("The mail server did not accept the message."))
                sent.append(email.pk)
                if len(sent) >= RECORD_EVERY:
                    persist(functools.partial(_mark_sent, sent))
                    sent = []
            except OSError as exc:  # SMTPException is an OSError too
                failures.append(_failure(email, exc))
                # A refused recipient concerns this message only; a lost connection, the rest.
                if isinstance(exc, smtplib.SMTPServerDisconnected) or not isinstance(
                    exc, smtplib.SMTPException
                ):
                    broken = exc
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            mailer.close()
        if sent:
            persist(functools.partial(_mark_sent, sent))
    return failures


def _mark_sent(ids: list[int]) -> None:
    # Out: the link now exists only in the mailbox, and as a hash. Marked sent even if another
    # worker has taken an email up meanwhile, so that it does not send it a second time.
    done = {**_released(OutboxEmail.Status.SENT), "sent_at": timezone.now(), "secret_link": ""}
    OutboxEmail.objects.filter(pk__in=ids).exclude(status=OutboxEmail.Status.SENT).update(**done)


def _released(status: str) -> dict[str, object]:
    return {"status": status, "claimed_by": "", "lease_until": None, "next_attempt_at": None}


def _attempt_failed(email: OutboxEmail, error: str, worker_id: str) -> None:
    """Queue the email again after its backoff, or, after the last attempt, mark it failed."""
    mine = OutboxEmail.objects.filter(
        pk=email.pk, status=OutboxEmail.Status.SENDING, claimed_by=worker_id
    )
    if email.attempts >= MAX_ATTEMPTS:
        # Never sent: nobody is to know the link now.
        mine.update(**_released(OutboxEmail.Status.FAILED), last_error=error, secret_link="")
    else:
        retry_at = timezone.now() + backoff(email.attempts)
        queued = {**_released(OutboxEmail.Status.QUEUED), "next_attempt_at": retry_at}
        mine.update(**queued, last_error=error)


def persist(write: Callable[[], object]) -> None:
    """Run ``write``, reconnecting and trying again for as long as the database is unreachable.

    Used for what follows a send: the server has the email, so giving up here would mean a
    second copy once the lease runs out. Waiting instead costs nothing, as nothing else can
    happen while the database is away.
    """
    delay = 0.25
    while True:
        try:
            write()
            return
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block:
                raise
            logger.warning("database unreachable, trying again in %ss: %s", delay, error_code(exc))
            close_quietly()
            time.sleep(delay)
            delay = min(delay * 2, 5)


def close_quietly() -> None:
    """Drop this thread's database connection so that the next query opens a new one."""
    with contextlib.suppress(DatabaseError):
        connection.close()


def outbox_leases_renew(*, worker_id: str) -> int:
    """Extend the leases of the emails this worker is sending; return how many."""
    return OutboxEmail.objects.filter(
        status=OutboxEmail.Status.SENDING, claimed_by=worker_id
    ).update(lease_until=timezone.now() + lease())


def outbox_reclaim_expired() -> int:
    """Queue again emails whose sending worker stopped (its lease ran out); return how many.

    The server may or may not have taken such an email, so it can arrive twice; that is
    better than never, and the copy has the same Message-ID. Past MAX_ATTEMPTS it is marked
    failed instead, for the Outbox page.
    """
    expired = OutboxEmail.objects.filter(
        status=OutboxEmail.Status.SENDING, lease_until__lt=timezone.now()
    )
    count = 0
    for email in expired.order_by("pk"):
        with transaction.atomic():
            gave_up = email.attempts >= MAX_ATTEMPTS
            status = OutboxEmail.Status.FAILED if gave_up else OutboxEmail.Status.QUEUED
            moved = OutboxEmail.objects.filter(
                pk=email.pk, status=OutboxEmail.Status.SENDING, lease_until__lt=timezone.now()
            ).update(
                **_released(status),
                **({"secret_link": ""} if gave_up else {}),
                last_error=_(STOPPED_ON_LAST_ATTEMPT if gave_up else STOPPED_MID_SEND),
            )
            count += moved
    return count


def _mailer(practice_id: int, config: EmailSettings) -> SMTPBackend:
    # One mailer per practice, built from its own settings (MAILERS in settings.py is static).
    return SMTPBackend(
        alias=f"practice-{practice_id}",
        host=config.host,
        port=config.port,
        username=config.username or None,
        password=config.password or None,
        use_tls=config.security == EmailSettings.Security.STARTTLS,
        use_ssl=config.security == EmailSettings.Security.TLS,
        timeout=SMTP_TIMEOUT,
    )


def _message(email: OutboxEmail, config: EmailSettings) -> EmailMultiAlternatives:
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
    message.extra_headers["Message-ID"] = email.message_id or new_message_id()
    message.attach_alternative(html, "text/html")
    for attachment in email.attached:
        message.attach(_part(attachment))
    return message


def _part(attachment: EmailAttachment) -> MIMEPart:
    """The attachment as a MIME part, its content type's parameters kept (``method=REQUEST``)."""
    kind, *pairs = (piece.strip() for piece in attachment.content_type.split(";"))
    params = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
    part = MIMEPart()
    part.set_content(
        attachment.content,
        subtype=kind.split("/", 1)[1],
        disposition="attachment",
        filename=attachment.filename,
        params=params,
    )
    return part


def _describe(exc: Exception) -> str:
    if isinstance(exc, EmailSettings.DoesNotExist):
        return _("Email is not set up for this practice: see Admin → Email Settings.")
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)[:1000]
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        answer = _("The mail server answered %(code)s: %(detail)s")
        return (answer % {"code": exc.smtp_code, "detail": detail})[:1000]
    return f"{type(exc).__name__}: {exc}"[:1000]  # the system's own words, as logged
