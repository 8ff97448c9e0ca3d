from __future__ import annotations

import uuid
import zoneinfo

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinicportal.practices.time_zones import (
    time_zone_default,
    time_zone_label,
    validate_time_zone,
)

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1 to 50 lowercase letters, digits and hyphens; start and end with a letter or digit."),
)


class Practice(models.Model):
    """The tenant: one clinic, with its own portal at ``/p/<slug>/``."""

    class LogsStaffAs(models.TextChoices):
        """How the patient's LOGS name a staff member who opened their files."""

        OFFICE = "office", _("“The office”")
        NAME = "name", _("The staff member’s name")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    forms_enabled = models.BooleanField(_("Forms"), default=False)
    schedule_enabled = models.BooleanField(_("Schedule"), default=False)
    pay_bills_enabled = models.BooleanField(_("Pay Bills"), default=False)
    portal_idle_minutes = models.PositiveSmallIntegerField(
        _("Portal idle time-out (minutes)"),
        default=15,
        validators=[MinValueValidator(2), MaxValueValidator(120)],
        help_text=_("Patients are signed out after this long without activity."),
    )
    logs_staff_as = models.CharField(
        _("In patients’ LOGS, name office staff as"),
        max_length=10,
        choices=LogsStaffAs.choices,
        default=LogsStaffAs.OFFICE,
    )
    time_zone = models.CharField(
        _("Time zone"),
        max_length=64,
        default=time_zone_default,
        validators=[validate_time_zone],
        help_text=_("An IANA name such as America/Denver."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def portal_path(self) -> str:
        return f"/p/{self.slug}/"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The practice's time zone: its pages show times in it, and its days (the payments of
        the day, today's date on a new invoice) begin and end at its midnight."""
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def time_zone_label(self) -> str:
        """The time zone as patients know it: "Eastern time (New York)"."""
        return time_zone_label(self.time_zone)


class StaffMember(models.Model):
    """An office user's membership of their one practice. Pages name it by ``public_id``."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        STAFF = "staff", _("Staff")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_member"
    )
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    display_name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.practice.slug})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class SystemDocument(models.Model):
    """A practice-wide library file (education handouts) that staff assign to patients' portals."""

    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="system_documents"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    blob = models.ForeignKey(
        "content.Blob", on_delete=models.PROTECT, related_name="system_documents"
    )
    filename = models.CharField(max_length=200, help_text="Display text only; never a path.")
    description = models.CharField(max_length=300)
    is_retired = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["description", "id"]

    def __str__(self) -> str:
        return self.description
