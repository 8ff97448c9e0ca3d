from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("Audit events are append-only.")

    def delete(self) -> NoReturn:
        raise TypeError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One recorded action: who, acting for whom, did what to which object, when, from where.

    Append-only: rows are written by services in the same transaction as the change they
    describe, and never updated or deleted (the database refuses it too; see migration 0002).
    """

    class Action(models.TextChoices):
        STAFF_LOGIN = "staff.login", _("Staff signed in")
        STAFF_LOGOUT = "staff.logout", _("Staff signed out")
        STAFF_TIMED_OUT = "staff.timed_out", _("Staff signed out after a time without activity")
        STAFF_LOGIN_FAILED = "staff.login_failed", _("Staff sign-in failed")
        STAFF_LOCKED_OUT = "staff.locked_out", _("Staff sign-in refused while paused")
        STAFF_CODE_FAILED = "staff.code_failed", _("Staff two-step code refused")
        STAFF_PASSWORD_CHECK_FAILED = (
            "staff.password_check_failed",
            _("Staff password refused when confirming a change"),
        )
        STAFF_RECOVERY_CODE_USED = "staff.recovery_code_used", _("Staff recovery code used")
        STAFF_RECOVERY_CODES_RENEWED = (
            "staff.recovery_codes_renewed",
            _("Staff recovery codes made anew"),
        )
        STAFF_CREATED = "staff.created", _("Staff member added")
        EMAIL_SETTINGS_CHANGED = "email_settings.changed", _("Email settings changed")
        PRACTICE_CREATED = "practice.created", _("Practice created")
        PRACTICE_UPDATED = "practice.updated", _("Practice settings changed")
        PATIENT_CREATED = "patient.created", _("Patient created")
        PATIENT_UPDATED = "patient.updated", _("Patient changed")
        PATIENT_VIEWED = "patient.viewed", _("Patient chart viewed")
        CHART_FILE_UPLOADED = "chart_file.uploaded", _("Chart file uploaded")
        CHART_FILE_VIEWED = "chart_file.viewed", _("Chart file viewed")
        CHART_FILE_DOWNLOADED = "chart_file.downloaded", _("Chart file downloaded")
        SYSTEM_DOCUMENT_CHANGED = "system_document.changed", _("Library document changed")
        PORTAL_DOCUMENT_SHARED = "portal_document.shared", _("Record shared to the portal")
        PORTAL_DOCUMENT_REMOVED = "portal_document.removed", _("Record removed from the portal")
        PORTAL_DOCUMENT_OFFICE_OPENED = (
            "portal_document.office_opened",
            _("Portal file opened by staff"),
        )
        PORTAL_DOCUMENT_VIEWED = "portal_document.viewed", _("Record viewed")
        PORTAL_DOCUMENT_DOWNLOADED = "portal_document.downloaded", _("Record downloaded")
        PORTAL_ACCESS_ISSUED = "portal.access_issued", _("Portal access issued by the office")
        PORTAL_ACCESS_EMAILED = "portal.access_emailed", _("Portal access emailed by the office")
        PORTAL_EMAIL_CHANGED = "portal.email_changed", _("Email address changed by the office")
        PORTAL_RESET_REQUESTED = "portal.reset_requested", _("Password reset link requested")
        PORTAL_LOGIN = "portal.login", _("Signed in")
        PORTAL_LOGIN_FAILED = "portal.login_failed", _("Sign-in failed")
        PORTAL_LOCKED_OUT = "portal.locked_out", _("Sign-in refused while paused")
        PORTAL_CODE_FAILED = "portal.code_failed", _("Two-step sign-in code refused")
        PORTAL_PASSWORD_CHECK_FAILED = (
            "portal.password_check_failed",
            _("Wrong password given to confirm a change"),
        )
        PORTAL_RECOVERY_CODE_USED = "portal.recovery_code_used", _("Recovery code used")
        PORTAL_RECOVERY_CODES_RENEWED = (
            "portal.recovery_codes_renewed",
            _("New recovery codes made"),
        )
        PORTAL_LOGOUT = "portal.logout", _("Signed out")
        PORTAL_TIMED_OUT = "portal.timed_out", _("Signed out after a time without activity")
        PORTAL_PASSWORD_CHANGED = "portal.password_changed", _("Password changed")
        PORTAL_TWO_FACTOR_ON = "portal.two_factor_on", _("Two-step sign-in turned on")
        PORTAL_TWO_FACTOR_OFF = "portal.two_factor_off", _("Two-step sign-in turned off")
        STAFF_TWO_FACTOR_ON = "staff.two_factor_on", _("Two-step sign-in turned on")
        STAFF_TWO_FACTOR_OFF = "staff.two_factor_off", _("Two-step sign-in turned off")
        STAFF_PASSWORD_CHANGED = "staff.password_changed", _("Staff password changed")
        STAFF_PASSWORD_REISSUED = "staff.password_reissued", _("Staff temporary password reissued")
        PORTAL_AUTHORIZED_USER_ADDED = "portal.authorized_user_added", _("Authorized user added")
        PORTAL_AUTHORIZED_USER_REMOVED = (
            "portal.authorized_user_removed",
            _("Authorized user removed"),
        )
        API_KEY_CREATED = "api_key.created", _("API key created")
        API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
        API_KEY_REFUSED = "api_key.refused", _("Revoked API key refused")
        API_KEY_WRONG = "api_key.wrong", _("Wrong secret for an API key refused")
        OUTBOX_EMAIL_VIEWED = "outbox.email_viewed", _("Outbox email opened")
        OUTBOX_EMAIL_RESENT = "outbox.email_resent", _("Failed email sent again")
        STAFF_SESSION_ENDED = "staff.session_ended", _("Staff signed out another device")
        STAFF_OTHER_SESSIONS_ENDED = (
            "staff.other_sessions_ended",
            _("Staff signed out all their other devices"),
        )
        STAFF_SESSIONS_ENDED_BY_ADMIN = (
            "staff.sessions_ended_by_admin",
            _("Admin signed a staff member out everywhere"),
        )
        PRACTICE_STAFF_SIGNED_OUT = (
            "practice.staff_signed_out",
            _("Admin signed out all other staff"),
        )
        PRACTICE_PORTAL_SIGNED_OUT = (
            "practice.portal_signed_out",
            _("Admin signed out everyone on the portal"),
        )
        MESSAGE_SENT = "message.sent", _("Message sent to the office")
        MESSAGE_READ = "message.read", _("Message read")
        MESSAGE_OFFICE_SENT = "message.office_sent", _("Message sent by the office")
        MESSAGES_OFFICE_VIEWED = "message.office_viewed", _("Messages opened by staff")
        MESSAGE_ATTACHMENT_VIEWED = "message.attachment_viewed", _("Message attachment viewed")
        MESSAGE_ATTACHMENT_DOWNLOADED = (
            "message.attachment_downloaded",
            _("Message attachment downloaded"),
        )
        MESSAGE_ATTACHMENT_OFFICE_OPENED = (
            "message.attachment_office_opened",
            _("Message attachment opened by staff"),
        )
        TASK_SIGNED_OFF = "task.signed_off", _("Task signed off")
        TASK_REOPENED = "task.reopened", _("Task re-opened")
        MESSAGING_SETTINGS_CHANGED = "messaging.settings_changed", _("Message settings changed")
        PORTAL_DOCUMENT_SAVED_TO_CHART = (
            "portal_document.saved_to_chart",
            _("File from the portal saved to the chart"),
        )
        INVOICE_CREATED = "invoice.created", _("Invoice created")
        INVOICE_UPDATED = "invoice.updated", _("Invoice changed")
        INVOICE_FINALIZED = "invoice.finalized", _("Invoice finalized")
        INVOICE_VOIDED = "invoice.voided", _("Invoice voided")
        INVOICE_ADJUSTED = "invoice.adjusted", _("Invoice adjusted")
        INVOICE_VIEWED = "invoice.viewed", _("Invoice opened by staff")
        INVOICE_PRINTED = "invoice.printed", _("Invoice printed")
        PAYMENT_RECORDED = "payment.recorded", _("Payment recorded")
        PAYMENT_STARTED = "payment.started", _("Online payment started")
        PAYMENT_REFUNDED = "payment.refunded", _("Payment refunded")
        REFUND_REFUSED = "refund.refused", _("Refund refused by the processor")
        PAYMENT_REFUNDED_IN_PROCESSOR = (
            "payment.refunded_in_processor",
            _("Payment refunded in the processor’s dashboard"),
        )
        APPOINTMENT_BOOKED = "appointment.booked", _("Appointment booked")
        APPOINTMENT_REQUESTED = "appointment.requested", _("Appointment requested")
        APPOINTMENT_CONFIRMED = "appointment.confirmed", _("Appointment confirmed")
        APPOINTMENT_MOVED = "appointment.moved", _("Appointment moved")
        APPOINTMENT_CANCELLED = "appointment.cancelled", _("Appointment cancelled")
        APPOINTMENT_VIEWED = "appointment.viewed", _("Appointment opened by staff")
        SCHEDULE_SETTINGS_CHANGED = "schedule_settings.changed", _("Schedule settings changed")
        FORM_CHANGED = "form.changed", _("Form changed")
        FORM_ASSIGNED = "form.assigned", _("Form assigned")
        FORM_ASSIGNMENT_WITHDRAWN = "form.assignment_withdrawn", _("Form assignment withdrawn")
        FORM_SUBMITTED = "form.submitted", _("Form submitted")
        PROVIDER_ADDED = "provider.added", _("Provider added")
        PROVIDER_CHANGED = "provider.changed", _("Provider changed")
        PROVIDER_REMOVED = "provider.removed", _("Provider removed")
        APPOINTMENT_TYPE_ADDED = "appointment_type.added", _("Appointment type added")
        APPOINTMENT_TYPE_CHANGED = "appointment_type.changed", _("Appointment type changed")
        DAY_OFF_ADDED = "day_off.added", _("Day off added")
        DAY_OFF_REMOVED = "day_off.removed", _("Day off removed")
        FORM_SUBMISSION_VIEWED = "form.submission_viewed", _("Submitted form opened by staff")
        INVOICE_SETTINGS_CHANGED = "invoice_settings.changed", _("Invoice settings changed")
        INVOICE_VIEWED_BY_PATIENT = "invoice.patient_viewed", _("Invoice downloaded in the portal")
        PAYMENT_SETTINGS_CHANGED = "payment_settings.changed", _("Payment settings changed")
        PORTAL_SESSION_ENDED = "portal.session_ended", _("Signed out another device")
        PORTAL_OTHER_SESSIONS_ENDED = (
            "portal.other_sessions_ended",
            _("Signed out all other devices"),
        )
        PORTAL_SIGNED_OUT_BY_OFFICE = (
            "portal.signed_out_by_office",
            _("Signed out everywhere by the office"),
        )
        PORTAL_TWO_FACTOR_RESET = (
            "portal.two_factor_reset",
            _("Two-step sign-in turned off by the office"),
        )

    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="audit_events"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A snapshot of the actor's name, so the trail reads true after renames.
    actor_name = models.CharField(max_length=200, blank=True)
    actor_portal_account = models.ForeignKey(
        "accounts.PortalAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acting_for = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=50, choices=Action.choices)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # A snapshot of the target's name (a record's description), so the trail and the patient's
    # LOGS read as they did at the time, whatever is renamed or removed later.
    object_label = models.CharField(max_length=300, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["practice", "-at"], name="audit_practice_at"),
            models.Index(fields=["patient", "-at"], name="audit_patient_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("Audit events are append-only.")


# What a patient sees under LOGS: access to their portal, and the office opening their chart
# or their portal files (never the office's other work, such as sharing or editing details).
PORTAL_LOG_ACTIONS = frozenset(
    {
        AuditEvent.Action.PORTAL_ACCESS_ISSUED,
        AuditEvent.Action.PORTAL_DOCUMENT_VIEWED,
        AuditEvent.Action.PORTAL_DOCUMENT_DOWNLOADED,
        AuditEvent.Action.PORTAL_DOCUMENT_OFFICE_OPENED,
        AuditEvent.Action.PATIENT_VIEWED,
        AuditEvent.Action.CHART_FILE_VIEWED,
        AuditEvent.Action.CHART_FILE_DOWNLOADED,
        AuditEvent.Action.PORTAL_ACCESS_EMAILED,
        AuditEvent.Action.PORTAL_EMAIL_CHANGED,
        AuditEvent.Action.PORTAL_RESET_REQUESTED,
        AuditEvent.Action.PORTAL_LOGIN,
        AuditEvent.Action.PORTAL_LOGIN_FAILED,
        AuditEvent.Action.PORTAL_LOCKED_OUT,
        AuditEvent.Action.PORTAL_CODE_FAILED,
        AuditEvent.Action.PORTAL_PASSWORD_CHECK_FAILED,
        AuditEvent.Action.PORTAL_RECOVERY_CODE_USED,
        AuditEvent.Action.PORTAL_RECOVERY_CODES_RENEWED,
        AuditEvent.Action.PORTAL_LOGOUT,
        AuditEvent.Action.PORTAL_TIMED_OUT,
        AuditEvent.Action.PORTAL_PASSWORD_CHANGED,
        AuditEvent.Action.PORTAL_TWO_FACTOR_ON,
        AuditEvent.Action.PORTAL_TWO_FACTOR_OFF,
        AuditEvent.Action.PORTAL_AUTHORIZED_USER_ADDED,
        AuditEvent.Action.PORTAL_AUTHORIZED_USER_REMOVED,
        AuditEvent.Action.PORTAL_SESSION_ENDED,
        AuditEvent.Action.PORTAL_OTHER_SESSIONS_ENDED,
        AuditEvent.Action.PORTAL_SIGNED_OUT_BY_OFFICE,
        AuditEvent.Action.PORTAL_TWO_FACTOR_RESET,
        AuditEvent.Action.MESSAGE_SENT,
        AuditEvent.Action.MESSAGE_READ,
        AuditEvent.Action.MESSAGES_OFFICE_VIEWED,
        AuditEvent.Action.MESSAGE_ATTACHMENT_VIEWED,
        AuditEvent.Action.MESSAGE_ATTACHMENT_DOWNLOADED,
        AuditEvent.Action.MESSAGE_ATTACHMENT_OFFICE_OPENED,
        AuditEvent.Action.INVOICE_VIEWED_BY_PATIENT,
        AuditEvent.Action.APPOINTMENT_BOOKED,
        AuditEvent.Action.APPOINTMENT_REQUESTED,
        AuditEvent.Action.APPOINTMENT_CONFIRMED,
        AuditEvent.Action.APPOINTMENT_MOVED,
        AuditEvent.Action.APPOINTMENT_CANCELLED,
        AuditEvent.Action.FORM_SUBMITTED,
        AuditEvent.Action.FORM_SUBMISSION_VIEWED,
    }
)
