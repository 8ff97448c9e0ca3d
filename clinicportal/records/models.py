from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinicportal.content.sniff import by_content_type


class PortalDocument(models.Model):
    """A file shared to a patient's portal (the seed's Online Files).

    It points at stored content, never copies it: a chart file shared to the portal, or one
    file shared to many patients, is stored once. A health topic found with Search Online is a
    link instead (``link_url``, no content).
    """

    class Source(models.TextChoices):
        SYSTEM = "system", _("System document")
        ONLINE = "online", _("MedlinePlus topic")
        CHART = "chart", _("Chart or upload")
        OTHER_PATIENT = "other_patient", _("From another patient")
        PATIENT_UPLOAD = "patient_upload", _("Sent by the patient")

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="portal_documents"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    blob = models.ForeignKey(
        "content.Blob",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="portal_documents",
    )
    system_document = models.ForeignKey(  # the library entry it came from, for "On N portals"
        "practices.SystemDocument",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="portal_documents",
    )
    link_url = models.URLField(
        max_length=500, blank=True, help_text="A health topic's web page, for links (no file)."
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    filename = models.CharField(max_length=200, help_text="Display text only; never a path.")
    description = models.CharField(max_length=300, blank=True)
    document_date = models.DateField(default=timezone.localdate)
    is_education = models.BooleanField("Education resource", default=False)
    shared_by = models.ForeignKey(  # empty when a program printed it through the API
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-document_date", "-id"]
        indexes = [
            models.Index(fields=["patient", "-document_date", "-id"], name="portal_document_list")
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(blob__isnull=False) & models.Q(link_url=""))
                | (models.Q(blob__isnull=True) & ~models.Q(link_url="")),
                name="portal_document_file_or_link",
                violation_error_message="A record is either a stored file or a link.",
            ),
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def audit_label(self) -> str:
        """The name the audit trail and LOGS keep, as RECORDS shows it.

        A file's description (or its name); a link's title (its description is a summary).
        """
        if self.is_link:
            return self.filename
        return self.description or self.filename

    @property
    def is_personal(self) -> bool:
        """Whether it is about the patient (a chart file, a visit summary), not a handout.

        Library documents and health topics are for anyone even when not marked education.
        """
        return not self.is_education and self.source not in (self.Source.SYSTEM, self.Source.ONLINE)

    @property
    def is_link(self) -> bool:
        return self.blob_id is None

    @property
    def type_label(self) -> str:
        """What the patient is told it is: "PDF", "JPEG image" ... or _("Web page") for a link."""
        if self.blob is None:
            return gettext("Web page")
        file_type = by_content_type(self.blob.content_type)
        return gettext(file_type.label) if file_type else gettext("File")


class PrintRequest(models.Model):
    """A program's print to the portal, by the Idempotency-Key it sent (records.printing).

    Kept after the office removes the document, so that a late retry does not put it back.
    """

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=64)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    sha256 = models.CharField(max_length=64)
    document = models.ForeignKey(
        PortalDocument, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "key"], name="print_request_key")
        ]

    def __str__(self) -> str:
        return self.key
