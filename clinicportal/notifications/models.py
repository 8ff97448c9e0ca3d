from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicportal.core.crypto import EncryptedTextField


class EmailSettings(models.Model):
    """How a practice sends email: its own SMTP server (Admin → Email Settings)."""

    class Security(models.TextChoices):
        STARTTLS = "starttls", _("STARTTLS (usually port 587)")
        TLS = "tls", _("TLS from the start (usually port 465)")
        NONE = "none", _("None (only for a server on this machine)")

    practice = models.OneToOneField(
        "practices.Practice", on_delete=models.CASCADE, related_name="email_settings"
    )
    host = models.CharField(_("SMTP server"), max_length=255)
    port = models.PositiveIntegerField(
        default=587, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    security = models.CharField(max_length=10, choices=Security.choices, default=Security.STARTTLS)
    username = models.CharField(max_length=255, blank=True)
    # Never shown back in any page. Kept, encrypted, so the worker can sign in to the server.
    password = EncryptedTextField(blank=True)
    from_address = models.EmailField(_("From address"))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class EmailAttachment:
    """A small text file made for the email, such as a calendar invitation (``.ics``).

    Only text: files from the content store (chart files, documents) never go by email, which
    carries no health information. ``content_type`` may carry parameters, as iMIP asks of a
    calendar: ``text/calendar; method=REQUEST``.
    """

    filename: str
    content_type: str
    content: str

    def __post_init__(self) -> None:
        if not self.content_type.startswith("text/"):
            raise ValueError("An email attachment is a text file.")
        if len(self.content) > ATTACHMENT_MAX_CHARS:
            raise ValueError("An email attachment is a small file made for the email.")


ATTACHMENT_MAX_CHARS = 100_000
# The kind of email that tells a staff member of their own sign-in (its changes, and sign-ins
# that may not have been theirs): the Outbox shows it to them and to admins, not to colleagues.
STAFF_SIGN_IN_KIND = "staff_sign_in"


class OutboxEmail(models.Model):
    """One email, written in the same transaction as what caused it and sent by the worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=40)
    to = models.EmailField()
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField()
    # A single-use link (set-password, reset) lives here, encrypted, only until the worker has
    # sent the email or given up; the bodies hold LINK_PLACEHOLDER instead, so nothing staff
    # can read lets them act as the patient.
    secret_link = EncryptedTextField(blank=True)
    # Files made for the email (a calendar invitation): [{"filename", "content_type",
    # "content"}], kept with it so that a retry or "Send again" sends the same files.
    attachments = models.JSONField(default=list, blank=True)
    # The same on every attempt, so a copy sent twice after a crash is recognisably one email.
    message_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # While queued: not before this time. While sending: see claimed_by and lease_until.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The worker sending it, and until when its claim holds. The worker's heartbeat renews the
    # lease while it lives; once the lease runs out any worker may take the email up again.
    claimed_by = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When its text and files were forgotten, CLINICPORTAL_OUTBOX_TEXT_DAYS after it was sent
    # (see outbox_forget_sent_text); the row stays, to say it was sent, to whom and when.
    text_forgotten_at = models.DateTimeField(null=True, blank=True)
    # A failed email with a single-use link is sent again as a new email with a new link.
    sent_again_as = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["practice", "-created_at", "-id"], name="outbox_list"),
            models.Index(fields=["practice", "status"], name="outbox_status"),
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"

    @property
    def attached(self) -> list[EmailAttachment]:
        return [EmailAttachment(**item) for item in self.attachments]

    @property
    def attachment_names(self) -> list[str]:
        return [item["filename"] for item in self.attachments]

    @property
    def stuck(self) -> bool:
        """Still "sending" after its lease ran out: the worker sending it stopped."""
        return (
            self.status == self.Status.SENDING
            and self.lease_until is not None
            and self.lease_until < timezone.now()
        )


class WorkerHeartbeat(models.Model):
    """A background worker's sign of life, renewed every few seconds while it runs."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid} ({self.worker_id})"
