"""Secure messages between a patient and the office, their attachments and the office's tasks.

A conversation is one subject between the office and one patient. Each message in it was
written by the patient's side (the patient or an authorized user), by the office, or is the
practice's automatic acknowledgement. Every message the patient's side sends is a web-message
task for the office, signed off by a named staff member; messages stay in the history whatever
becomes of their tasks.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

BODY_MAX = 5000
SUBJECT_MAX = 150
ATTACHMENTS_MAX = 10

# How much of a message's first line a list shows (the task list, its sign-off, LOGS).
FIRST_LINE_MAX = 120


class Category(models.TextChoices):
    """What a conversation is about; a practice can rename each or switch it off."""

    APPOINTMENT = "appointment", _("Appointment")
    BILLING = "billing", _("Billing")
    CLINICAL = "clinical", _("Clinical question")
    REFILL = "refill", _("Prescription refill")
    OPTICAL = "optical", _("Glasses or contacts")
    OTHER = "other", _("Other")


class MessagingSettings(models.Model):
    """A practice's choices for secure messages (Admin → Messages); no row means the defaults."""

    practice = models.OneToOneField(
        "practices.Practice", on_delete=models.CASCADE, related_name="messaging_settings"
    )
    response_time = models.CharField(
        _("We reply"),
        max_length=100,
        default=_("within 2 business days"),
        help_text=_("Shown to patients before they send, e.g. “within 2 business days”."),
    )
    # {category: new name}, for the categories the practice renamed.
    category_names = models.JSONField(default=dict, blank=True)
    # The categories patients may no longer choose.
    categories_off = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Messaging settings of {self.practice_id}"


class Conversation(models.Model):
    """One subject between the office and one patient: its messages, oldest first."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="conversations"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    category = models.CharField(max_length=20, choices=Category.choices)
    subject = models.CharField(max_length=SUBJECT_MAX)
    started_by_office = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # The newest message's time, for "newest first".
    last_message_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-last_message_at", "-id"], name="conversation_list")
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def audit_label(self) -> str:
        return self.subject


class Message(models.Model):
    """One secure message. Its body is plain text, never HTML; it is shown escaped."""

    files: list[Attachment]  # its attachments, as the history selectors give them

    class Writer(models.TextChoices):
        PATIENT = "patient", _("Patient")
        OFFICE = "office", _("Office")
        AUTOMATIC = "automatic", _("Automatic reply")

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="messages"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    writer = models.CharField(max_length=10, choices=Writer.choices)
    # Who wrote it: the portal account (the patient's own, or an authorized user's) or staff.
    author_account = models.ForeignKey(
        "accounts.PortalAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The writer's name as it was, so the history reads true after a rename.
    author_name = models.CharField(max_length=200, blank=True)
    # Whether the author is the patient themself (not an authorized user), for "Written By".
    author_is_patient = models.BooleanField(default=False)
    body = models.TextField(max_length=BODY_MAX)
    requests_response = models.BooleanField(default=False)
    # When the office answered it, and with which message (the seed's Response Date).
    response_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="answers"
    )
    # Office use only: never shown on a patient's page, never in an email.
    office_notes = models.TextField(blank=True, max_length=BODY_MAX)
    # The "a message is waiting" email sent for it, if any.
    email = models.ForeignKey(
        "notifications.OutboxEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The form's one-time key: a repeated post with it finds this message instead of a new one.
    idempotency_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at", "id"], name="message_history"),
            models.Index(fields=["patient", "writer"], name="message_patient_writer"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="message_once",
            ),
            models.CheckConstraint(condition=~models.Q(body=""), name="message_not_empty"),
        ]

    def __str__(self) -> str:
        return self.first_line

    @property
    def first_line(self) -> str:
        """The message's first line, for lists: up to FIRST_LINE_MAX characters, a longer one
        cut after a word and ended with "…", so that it reads as shortened."""
        line = next((part.strip() for part in self.body.splitlines() if part.strip()), "")
        if len(line) <= FIRST_LINE_MAX:
            return line
        # The last space that leaves room for "…" (the one right after a word that fits too).
        space = line.rfind(" ", 0, FIRST_LINE_MAX)
        if space > FIRST_LINE_MAX // 2:  # a word ends near the end: cut there, not inside it
            return line[:space].rstrip() + "…"
        return line[: FIRST_LINE_MAX - 1] + "…"

    @property
    def audit_label(self) -> str:
        return self.conversation.subject

    @property
    def from_patient(self) -> bool:
        return self.writer == self.Writer.PATIENT


class MessageRead(models.Model):
    """The first time the patient's side opened an office message: the receipt of a viewing.

    Written when a conversation is opened (a GET, like the audit rows of a viewing), once per
    message; "unread" is an office message without one.
    """

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="read")
    account = models.ForeignKey(
        "accounts.PortalAccount", on_delete=models.PROTECT, related_name="+"
    )
    read_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.message_id} read at {self.read_at:%Y-%m-%d %H:%M}"


class Attachment(models.Model):
    """A file sent with a message. It points at stored content, never copies it."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="attachments")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Named, not "+": blob_release looks for every row that still uses the content.
    blob = models.ForeignKey(
        "content.Blob", on_delete=models.PROTECT, related_name="message_attachments"
    )
    filename = models.CharField(max_length=200, help_text="Display text only; never a path.")
    # A patient's attachment is also in their Online Portal files, "Sent by the patient".
    portal_document = models.ForeignKey(
        "records.PortalDocument",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def audit_label(self) -> str:
        return self.filename


# A task's category: a message's own, "Form" for a submitted form to review, or "Refund" for
# a refund the processor could not make, for the office to give the money back another way.
FORM_CATEGORY = "form"
REFUND_CATEGORY = "refund"
TASK_CATEGORIES = [
    *Category.choices,
    (FORM_CATEGORY, _("Form")),
    (REFUND_CATEGORY, _("Refund")),
]


class Task(models.Model):
    """An office to-do, to read and sign off: a web message from the patient's side, an
    appointment a patient booked, asked for, moved or cancelled online, a form a patient
    submitted, to review, or a refund the processor reported failed, to return another way."""

    class Kind(models.TextChoices):
        WEB_MESSAGE = "web_message", _("Web message")
        APPOINTMENT = "appointment", _("Appointment")
        FORM = "form", _("Form")
        REFUND = "refund", _("Refund failed")

    class Happened(models.TextChoices):
        """What the patient's side did to the appointment (the latest, while the task is open)."""

        REQUESTED = "requested", _("Appointment requested")
        BOOKED = "booked", _("Appointment booked")
        MOVED = "moved", _("Appointment moved")
        CANCELLED = "cancelled", _("Appointment cancelled by the patient")

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WEB_MESSAGE)
    # A web message's task names its message; an appointment's, the appointment and what the
    # patient did to it.
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.PROTECT, related_name="task"
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    happened = models.CharField(max_length=20, choices=Happened.choices, blank=True)
    # A form's task names the submission to review.
    submission = models.OneToOneField(
        "intake.Submission", null=True, blank=True, on_delete=models.PROTECT, related_name="task"
    )
    # A failed refund's task names the refund: one refund, one task, however often it fails.
    refund = models.OneToOneField(
        "billing.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="task"
    )
    # The message's category (or FORM_CATEGORY, REFUND_CATEGORY), kept here so the list filters
    # without a join.
    category = models.CharField(max_length=20, choices=TASK_CATEGORIES)
    created_at = models.DateTimeField()
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_off_by_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["practice", "created_at", "id"], name="task_list"),
            models.Index(
                fields=["practice", "category", "created_at", "id"], name="task_list_category"
            ),
            models.Index(
                fields=["practice", "created_at", "id"],
                condition=models.Q(signed_off_at__isnull=True),
                name="task_list_open",
            ),
            models.Index(
                fields=["practice", "category", "created_at", "id"],
                condition=models.Q(signed_off_at__isnull=True),
                name="task_list_open_category",
            ),
            models.Index(
                fields=["practice", "created_at", "id"],
                condition=models.Q(signed_off_at__isnull=False),
                name="task_list_done",
            ),
            models.Index(
                fields=["practice", "category", "created_at", "id"],
                condition=models.Q(signed_off_at__isnull=False),
                name="task_list_done_category",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(signed_off_at__isnull=True, signed_off_by__isnull=True)
                | models.Q(signed_off_at__isnull=False),
                name="task_signed_off_together",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind="web_message",
                    message__isnull=False,
                    appointment__isnull=True,
                    submission__isnull=True,
                    refund__isnull=True,
                    happened="",
                )
                | (
                    models.Q(
                        kind="appointment",
                        message__isnull=True,
                        appointment__isnull=False,
                        submission__isnull=True,
                        refund__isnull=True,
                    )
                    & ~models.Q(happened="")
                )
                | models.Q(
                    kind="form",
                    message__isnull=True,
                    appointment__isnull=True,
                    submission__isnull=False,
                    refund__isnull=True,
                    happened="",
                )
                | models.Q(
                    kind="refund",
                    message__isnull=True,
                    appointment__isnull=True,
                    submission__isnull=True,
                    refund__isnull=False,
                    happened="",
                ),
                name="task_names_what_it_is_about",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.public_id}"

    @property
    def is_open(self) -> bool:
        return self.signed_off_at is None

    @property
    def audit_label(self) -> str:
        return str(self.get_category_display())
