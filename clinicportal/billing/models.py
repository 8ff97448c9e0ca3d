"""Invoices for a patient, their lines, adjustments and payments; amounts in integer cents.

Totals are never stored: an invoice's charges are the sum of its lines, and its balance is the
charges less its adjustments and the payments received (less what was refunded of them).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinicportal.core.crypto import EncryptedTextField

DEFAULT_PORTAL_INFO = _(
    "View your records, send us a secure message and see this bill online at {portal_url}. "
    "Your username is {username}."
)


class InvoiceSettings(models.Model):
    """A practice's choices for invoices (Admin → Invoices); no row means the defaults."""

    practice = models.OneToOneField(
        "practices.Practice", on_delete=models.CASCADE, related_name="invoice_settings"
    )
    portal_info = models.TextField(
        _("Default Web Portal information"),
        max_length=1000,
        blank=True,
        help_text=_(
            "Printed on invoices when Portal Info is chosen. {portal_url} and {username} are "
            "filled in; a password never is."
        ),
    )
    include_portal_info = models.BooleanField(
        _("Include information on how to access the portal"),
        default=False,
        help_text=_("Pre-checks Portal Info on every invoice."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Invoice settings of {self.practice_id}"


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FINALIZED = "finalized", _("Finalized")
        VOID = "void", _("Void")

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="invoices"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.PositiveIntegerField()  # the practice's own sequence, from 1
    invoice_date = models.DateField(_("Date"))
    provider = models.CharField(_("Provider"), max_length=150)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    void_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    finalized_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-invoice_date", "-number"]
        indexes = [
            models.Index(fields=["patient", "-invoice_date", "-number"], name="invoice_patient"),
            models.Index(fields=["practice", "-invoice_date", "-number"], name="invoice_practice"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["practice", "number"], name="invoice_number_unique"),
            models.CheckConstraint(
                condition=~models.Q(status="void") | ~models.Q(void_reason=""),
                name="invoice_void_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    @property
    def audit_label(self) -> str:
        return f"#{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_finalized(self) -> bool:
        return self.status == self.Status.FINALIZED


class InvoiceLine(models.Model):
    """One billed service: code, description, diagnosis codes, quantity and unit price."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    service_code = models.CharField(_("Service code"), max_length=20, blank=True)
    description = models.CharField(_("Description"), max_length=200)
    diagnosis_codes = models.CharField(_("Diagnosis codes"), max_length=100, blank=True)
    quantity = models.PositiveIntegerField(_("Quantity"), default=1)
    unit_price_cents = models.PositiveIntegerField(_("Unit price"))

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="line_quantity_positive"
            )
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.unit_price_cents


class Adjustment(models.Model):
    """A reduction of what is owed (a courtesy discount, an insurance write-off)."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="adjustments")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    description = models.CharField(_("Description"), max_length=200)
    amount_cents = models.PositiveIntegerField(_("Amount"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="adjustment_positive"
            )
        ]

    def __str__(self) -> str:
        return self.description


class Payment(models.Model):
    """Money received for an invoice: in the office, or through the portal's processor."""

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        CHECK = "check", _("Check")
        CARD_IN_OFFICE = "card_office", _("Card in the office")
        CARD_ONLINE = "card_online", _("Card online")

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    method = models.CharField(_("Method"), max_length=20, choices=Method.choices)
    amount_cents = models.PositiveIntegerField(_("Amount"))
    refunded_cents = models.PositiveIntegerField(default=0)
    reference = models.CharField(_("Reference"), max_length=100, blank=True)
    received_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The processor's id for an online payment: one payment, however often it is confirmed.
    processor_payment_id = models.CharField(max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            models.Index(fields=["practice", "received_at", "id"], name="payment_day"),
            # PAY BILLS' receipts, a keyset page by received_at and id (either way).
            models.Index(fields=["patient", "received_at", "id"], name="payment_patient"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="payment_positive"),
            models.CheckConstraint(
                condition=models.Q(refunded_cents__lte=models.F("amount_cents")),
                name="payment_refund_at_most_amount",
            ),
            models.UniqueConstraint(
                fields=["practice", "processor_payment_id"],
                condition=models.Q(processor_payment_id__isnull=False),
                name="payment_once_per_processor_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount_cents}"


class Refund(models.Model):
    """Money given back of a payment: through the processor for a card paid online, else in
    the office. Its amount counts in the payment's ``refunded_cents`` from the moment it is
    asked for until the processor refuses it, so two refunds can never exceed the payment.

    A refund made in the processor's own dashboard, which the processor then reports, is
    ``made_in_processor``: no staff member made it and it has no key of ours, only the
    processor's refund id, which records it once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the processor")
        DONE = "done", _("Refunded")
        REFUSED = "refused", _("Refused")

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    amount_cents = models.PositiveIntegerField(_("Amount"))
    reason = models.CharField(_("Reason"), max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices)
    # The form's one-time key; also the processor's idempotency key, so sending it again
    # (a double click, a time-out) refunds once. Blank for a refund made in the processor.
    idempotency_key = models.CharField(max_length=64, blank=True)
    processor_refund_id = models.CharField(max_length=100, blank=True)
    refused_because = models.CharField(max_length=300, blank=True)
    made_in_processor = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="refund_positive"),
            models.UniqueConstraint(
                fields=["practice", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="refund_once_per_key",
            ),
            # A refund the processor reports is recorded once, however often it is reported.
            models.UniqueConstraint(
                fields=["practice", "processor_refund_id"],
                condition=~models.Q(processor_refund_id=""),
                name="refund_once_per_processor_id",
            ),
            # Made by a staff member with a key of ours, or in the processor with its id.
            models.CheckConstraint(
                condition=(
                    models.Q(made_in_processor=False, created_by__isnull=False)
                    & ~models.Q(idempotency_key="")
                )
                | (
                    models.Q(made_in_processor=True, created_by__isnull=True, idempotency_key="")
                    & ~models.Q(processor_refund_id="")
                ),
                name="refund_by_staff_or_processor",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount_cents} of {self.payment_id}"


class PaymentSettings(models.Model):
    """How the portal's Pay Bills takes cards (Admin → Payments); no row means off."""

    class Processor(models.TextChoices):
        OFF = "", _("Off")
        TEST = "test", _("Test processor")
        STRIPE = "stripe", _("Stripe")

    practice = models.OneToOneField(
        "practices.Practice", on_delete=models.CASCADE, related_name="payment_settings"
    )
    processor = models.CharField(max_length=20, choices=Processor.choices, blank=True)
    # Signs the processor's confirmations (HMAC-SHA256); made here for the test processor and
    # never shown back.
    webhook_secret = EncryptedTextField(blank=True)
    # Stripe's secret API key and its webhook endpoint's signing secret, as the practice's
    # Stripe dashboard gives them. Write-only: Admin → Payments says whether each is saved,
    # never what it is.
    stripe_secret_key = EncryptedTextField(blank=True)
    stripe_webhook_secret = EncryptedTextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Payment settings of {self.practice_id}"

    @property
    def audit_label(self) -> str:
        return str(self.get_processor_display())


class PaymentAttempt(models.Model):
    """A patient's online payment, from "Pay" until the processor confirms or declines it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the processor")
        PAID = "paid", _("Paid")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Not completed")

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="attempts")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        "accounts.PortalAccount", on_delete=models.PROTECT, related_name="+"
    )
    amount_cents = models.PositiveIntegerField()
    idempotency_key = models.CharField(max_length=64, unique=True)
    processor = models.CharField(max_length=20)
    session_id = models.CharField(max_length=255, blank=True)
    redirect_url = models.CharField(max_length=2000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="attempt"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        # Billing → Online payments, newest first (core.keyset), for each of its choices.
        indexes = [
            models.Index(fields=["practice", "created_at", "id"], name="attempt_list"),
            models.Index(
                fields=["practice", "created_at", "id"],
                condition=models.Q(status="paid"),
                name="attempt_list_paid",
            ),
            models.Index(
                fields=["practice", "created_at", "id"],
                condition=models.Q(status="pending"),
                name="attempt_list_pending",
            ),
            models.Index(
                fields=["practice", "created_at", "id"],
                condition=models.Q(status__in=["declined", "expired"]),
                name="attempt_list_unpaid",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="attempt_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"Attempt {self.public_id}"
