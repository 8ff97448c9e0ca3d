"""FORMS: the practice's online forms, their versions, who must fill them, and what came back.

A form's questions live in versions. Editing a form whose current version has been answered (a
draft or a submission) makes a new version; a submission keeps the version it answered, so
what a patient saw and what they said stay together. A field is a small dict (``intake.fields``
says which kinds there are and how each is checked and shown).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Form(models.Model):
    class Kind(models.TextChoices):
        INTAKE = "intake", _("Intake")
        HISTORY = "history", _("Medical history")
        CONSENT = "consent", _("Consent")
        HIPAA = "hipaa", _("HIPAA acknowledgement")
        OTHER = "other", _("Other")

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("Name"), max_length=200)
    kind = models.CharField(_("Kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    description = models.TextField(_("Description for patients"), blank=True)
    offered_to_all = models.BooleanField(
        _("Offered to every patient"),
        default=False,
        help_text=_("Otherwise only patients it is assigned to see it."),
    )
    active = models.BooleanField(_("In use"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_label(self) -> str:
        return self.name


class FormVersion(models.Model):
    """The questions of a form as patients answer them; frozen once anything answers it."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    fields = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["form_id", "-number"]
        constraints = [models.UniqueConstraint(fields=["form", "number"], name="form_version_once")]

    def __str__(self) -> str:
        return f"{self.form_id} v{self.number}"


class FormAssignment(models.Model):
    """The office asks a patient to fill a form; it is done when a submission answers it."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="assignments")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "form"],
                condition=models.Q(completed_at__isnull=True),
                name="assignment_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.form_id} for {self.patient_id}"


class Submission(models.Model):
    """A patient's answers to one version of a form: a draft until submitted, then fixed."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="submissions")
    version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="submissions")
    assignment = models.ForeignKey(
        FormAssignment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Field key → what was typed (a draft keeps it as typed) or the checked answer (submitted).
    answers = models.JSONField(default=dict)
    started_by = models.ForeignKey(
        "accounts.PortalAccount", on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        "accounts.PortalAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The submitter's name as it was (an authorized user fills for the patient, and is named).
    submitted_by_name = models.CharField(max_length=200, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The PDF in the chart; or why it could not be made (the answers are kept either way).
    chart_file = models.ForeignKey(
        "patients.ChartFile", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pdf_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(
                fields=["practice", "submitted_at", "id"],
                condition=models.Q(status="submitted"),
                name="submission_list",
            ),
            # The office's list of one form's submissions (filtered by form), newest first.
            models.Index(
                fields=["form", "submitted_at", "id"],
                condition=models.Q(status="submitted"),
                name="submission_form_list",
            ),
            models.Index(fields=["patient", "form"], name="submission_patient_form"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "form"],
                condition=models.Q(status="draft"),
                name="submission_one_draft",
            )
        ]

    def __str__(self) -> str:
        return f"Submission {self.public_id}"

    @property
    def audit_label(self) -> str:
        return self.form.name
