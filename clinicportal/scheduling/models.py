"""SCHEDULE: appointment types, providers and their weekly hours, days off, and appointments.

Times are stored in UTC (``starts_at``, ``ends_at``) and shown in the practice's time zone.
Weekly hours are wall-clock times in that zone, so a 9:00 slot stays at 9:00 across a
daylight-saving change. A provider's day is one or more blocks of hours: a lunch break is the
gap between two blocks. No two live appointments of a provider overlap: the booking services
check it under the provider's row lock, and a unique index on (provider, start) backs it up.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# The longest visit a type may have: searches bound an appointment's start by it.
LONGEST_MINUTES = 480


class ScheduleSettings(models.Model):
    """How patients book online (Admin → Schedule); no row means off."""

    class Mode(models.TextChoices):
        OFF = "off", _("Off: patients call the office to book")
        REQUEST = "request", _("Request: patients ask for a time, and the office confirms it")
        BOOK = "book", _("Book: patients book a free time, confirmed at once")

    practice = models.OneToOneField(
        "practices.Practice", on_delete=models.CASCADE, related_name="schedule_settings"
    )
    mode = models.CharField(
        _("Online scheduling"), max_length=10, choices=Mode.choices, default=Mode.OFF
    )
    cutoff_hours = models.PositiveSmallIntegerField(
        _("Patients may cancel or reschedule up to (hours before)"),
        default=24,
        validators=[MaxValueValidator(720)],
    )
    notice_hours = models.PositiveSmallIntegerField(
        _("Earliest online booking (hours from now)"),
        default=2,
        validators=[MaxValueValidator(720)],
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("Offer times up to (days ahead)"),
        default=42,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    reminder_hours = models.PositiveSmallIntegerField(
        _("Reminder email (hours before; 0 for none)"),
        default=24,
        validators=[MaxValueValidator(336)],
    )
    slot_minutes = models.PositiveSmallIntegerField(
        _("Appointments start every (minutes)"),
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(120)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Schedule settings of {self.practice_id}"

    @property
    def online(self) -> bool:
        """Patients may book or request online (else the office books, and they call it)."""
        return self.mode != self.Mode.OFF

    @property
    def audit_label(self) -> str:
        return str(self.get_mode_display())


class Provider(models.Model):
    """Someone patients see: a doctor, an optometrist, a technician."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("Name"), max_length=200)
    active = models.BooleanField(_("Takes appointments"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_label(self) -> str:
        return self.name


class AppointmentType(models.Model):
    """A kind of visit: its length, who may book it online, what the patient should know."""

    class Online(models.TextChoices):
        OFFICE = "office", _("Booked by the office only")
        PATIENTS = "patients", _("Patients may book it online")

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("Name"), max_length=120)
    minutes = models.PositiveSmallIntegerField(
        _("Length (minutes)"),
        validators=[MinValueValidator(5), MaxValueValidator(LONGEST_MINUTES)],
    )
    online = models.CharField(
        _("Online booking"), max_length=10, choices=Online.choices, default=Online.PATIENTS
    )
    instructions = models.TextField(
        _("Instructions for the patient"),
        blank=True,
        help_text=_(
            "Shown when booking and in the confirmation (for example: bring your glasses)."
        ),
    )
    # Who can see the patient for it; none chosen means every provider.
    providers = models.ManyToManyField(Provider, blank=True, related_name="types")
    active = models.BooleanField(_("Offered"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gte=5, minutes__lte=LONGEST_MINUTES),
                name="type_minutes_range",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_label(self) -> str:
        return self.name

    @property
    def is_online(self) -> bool:
        return self.active and self.online == self.Online.PATIENTS


class WorkingHours(models.Model):
    """One block of a provider's week, in the practice's wall-clock time (Monday is 0)."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)])
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["weekday", "starts", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="hours_order"
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id} {self.weekday} {self.starts}-{self.ends}"


class DayOff(models.Model):
    """A date a provider (or, with no provider, the whole practice) sees no one."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="days_off"
    )
    date = models.DateField(_("Date"))
    reason = models.CharField(_("Reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["practice", "date"], name="day_off_date")]
        constraints = [
            models.UniqueConstraint(fields=["practice", "provider", "date"], name="day_off_once")
        ]

    def __str__(self) -> str:
        return f"Day off {self.date}"


class Appointment(models.Model):
    """A patient's visit with a provider: asked for, booked, or cancelled."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")

    LIVE = (Status.REQUESTED, Status.BOOKED)  # hold their time

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices)
    # Who made it: a portal account (the patient or an authorized user), or a staff member.
    booked_by_account = models.ForeignKey(
        "accounts.PortalAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    booked_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The form's one-time key: a double click books once.
    idempotency_key = models.CharField(max_length=64, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_name = models.CharField(max_length=200, blank=True)
    # The office's message to the patient when it confirms, moves or cancels.
    office_message = models.CharField(max_length=500, blank=True)
    # Bumped by every move, so that a reminder queued for an earlier time knows it is stale.
    version = models.PositiveIntegerField(default=1)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["practice", "starts_at"], name="appointment_day"),
            models.Index(fields=["provider", "starts_at"], name="appointment_provider"),
            models.Index(fields=["patient", "starts_at"], name="appointment_patient"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="appointment_order"
            ),
            models.UniqueConstraint(
                fields=["provider", "starts_at"],
                condition=models.Q(status__in=["requested", "booked"]),
                name="appointment_one_per_start",
            ),
            models.UniqueConstraint(
                fields=["practice", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="appointment_once_per_key",
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment {self.public_id}"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE
