from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicportal.patients.validators import validate_birth_date


class Patient(models.Model):
    """A person in a practice's chart."""

    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="patients"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(validators=[validate_birth_date])
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address_line1 = models.CharField(_("Address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("Address line 2"), max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(_("State"), max_length=100, blank=True)
    postal_code = models.CharField(_("ZIP code"), max_length=20, blank=True)
    # Search keys, kept by patient_create/patient_update: folded names and phone digits, indexed
    # for prefix search at 100 000 patients a practice.
    last_name_key = models.CharField(max_length=100, editable=False)
    first_name_key = models.CharField(max_length=100, editable=False)
    phone_digits = models.CharField(max_length=20, blank=True, editable=False)
    # The digits backwards: a number typed without its area code ("555-0134") is a prefix of
    # these, so the same kind of index finds a phone by its end.
    phone_digits_reversed = models.CharField(max_length=20, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name_key", "first_name_key", "id"]
        indexes = [
            models.Index(
                fields=["practice", "last_name_key", "first_name_key", "id"], name="patient_name"
            ),
            models.Index(
                fields=["practice", "first_name_key", "last_name_key", "id"],
                name="patient_first_name",
            ),
            # With the name keys and id in them, a birth-date or phone search reads the matches'
            # keys for sorting from the index alone (see patients.selectors.SortedMatches).
            models.Index(
                fields=["practice", "date_of_birth", "last_name_key", "first_name_key", "id"],
                name="patient_dob_keys",
            ),
            models.Index(
                fields=["practice", "phone_digits", "last_name_key", "first_name_key", "id"],
                name="patient_phone_keys",
            ),
            models.Index(
                fields=[
                    "practice",
                    "phone_digits_reversed",
                    "last_name_key",
                    "first_name_key",
                    "id",
                ],
                name="patient_phone_end_keys",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def sort_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


class ChartFile(models.Model):
    """A document in a patient's chart (the office's Files section); never shown to patients."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="chart_files")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    blob = models.ForeignKey("content.Blob", on_delete=models.PROTECT, related_name="chart_files")
    filename = models.CharField(max_length=200, help_text="Display text only; never a path.")
    description = models.CharField(max_length=300, blank=True)
    document_date = models.DateField(default=timezone.localdate)
    # Staff who added it; none for a file the portal made (a form a patient submitted).
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-document_date", "-id"]
        indexes = [
            models.Index(fields=["patient", "-document_date", "-id"], name="chart_file_list")
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def audit_label(self) -> str:
        """The name the audit trail keeps: its description, or its file name."""
        return self.description or self.filename
