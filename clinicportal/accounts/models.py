from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from clinicportal.core.crypto import EncryptedTextField


class User(AbstractUser):
    """A login to the office console. Its practice and role live on ``StaffMember``.

    A password someone else chose (the first admin's, printed by ``create_practice``) is
    temporary: it expires, and the office lets its owner in only to choose their own.
    """

    password_is_temporary = models.BooleanField(default=False)
    temporary_password_expires_at = models.DateTimeField(null=True, blank=True)
    # When the right password was given with a code still owed (accounts.services.unfinished),
    # and by which browser (core.context.browser_tag).
    second_step_awaited_at = models.DateTimeField(null=True, blank=True)
    second_step_awaited_by = models.CharField(max_length=32, blank=True)
    # The browsers it has signed in from, newest first: keyed hashes of their tokens
    # (core.known_browser), for accounts.services.browsers.
    known_browsers = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "accounts_user"


class PortalAccount(models.Model):
    """A login to one practice's patient portal: a patient's own, or an authorized web user's.

    The password is stored only as an Argon2id hash. A password the office generated is
    temporary: it expires, and the first sign-in with it must set a new one.
    """

    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="portal_accounts"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    username = models.CharField(max_length=150)
    # Case-folded username: unique within the practice, so "JDoe" and "jdoe" are one account.
    username_key = models.CharField(max_length=150, editable=False)
    display_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    password = models.CharField(max_length=256)
    password_is_temporary = models.BooleanField(default=False)
    temporary_password_expires_at = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    # When the right password was given with a code still owed (accounts.services.unfinished),
    # and by which browser (core.context.browser_tag).
    second_step_awaited_at = models.DateTimeField(null=True, blank=True)
    second_step_awaited_by = models.CharField(max_length=32, blank=True)
    # The browsers it has signed in from, newest first: keyed hashes of their tokens
    # (core.known_browser), for accounts.services.browsers.
    known_browsers = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "username_key"], name="portal_username_unique_per_practice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.username} ({self.display_name})"


class PortalGrant(models.Model):
    """Which patients a portal account may see: the patient's own account, or an authorized user."""

    class Kind(models.TextChoices):
        PATIENT = "patient", _("Patient")
        AUTHORIZED = "authorized", _("Authorized web user")

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="grants")
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.CASCADE, related_name="portal_grants"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    note = models.CharField(max_length=200, blank=True, help_text=_("For example: mother, spouse."))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "patient"], name="portal_grant_unique"),
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(kind="patient"),
                name="portal_one_own_account_per_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} → {self.patient}"


class PortalSession(models.Model):
    """A signed-in portal session, so that it can be ended from the server at once.

    Pages name it by ``public_id``; the session key never leaves the server.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.account} since {self.created_at:%Y-%m-%d %H:%M}"


class OfficeSession(models.Model):
    """A signed-in office session: a request whose row is gone is signed out at once.

    Pages name it by ``public_id``; the session key never leaves the server.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="office_sessions"
    )
    session_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class LoginFailure(models.Model):
    """A failed sign-in, kept for a while to throttle guessing per username and per address."""

    class Door(models.TextChoices):
        PORTAL = "portal", _("Patient portal")
        OFFICE = "office", _("Office")
        API = "api", _("API key")
        RESET = "reset", _("Forgot password")

    door = models.CharField(max_length=10, choices=Door.choices)
    practice = models.ForeignKey(
        "practices.Practice", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    username_key = models.CharField(max_length=150)

    class Stage(models.TextChoices):
        DOOR = "door", _("Refused at the door")
        # A code checked and wrong, after the right password: someone may have it (ASVS 6.3.5).
        WRONG_CODE = "wrong_code", _("A wrong code after the right password")
        # A code refused unchecked, while sign-in was paused, or a right one sent twice.
        CODE_REFUSED = "code_ref", _("A code refused while paused, or sent twice")
        SIGNED_IN = "signed_in", _("A wrong password or code inside a signed-in session")

    ip = models.GenericIPAddressField(null=True, blank=True)
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.DOOR)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["door", "practice", "username_key", "at"], name="login_failure_user"
            ),
            models.Index(fields=["door", "ip", "at"], name="login_failure_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.door} {self.username_key} {self.at:%Y-%m-%d %H:%M}"


class PortalLink(models.Model):
    """A single-use link that lets an account set its password; only its hash is stored."""

    class Purpose(models.TextChoices):
        SET_PASSWORD = "set_password", _("Set password (emailed by the office)")
        RESET = "reset", _("Forgot password")

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="links")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # When a newer link of the same purpose took its place: only the newest one works.
    replaced_at = models.DateTimeField(null=True, blank=True)
    # The email that carries it, so that a failed one can be sent again with a new link.
    email = models.ForeignKey(
        "notifications.OutboxEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="portal_links",
    )

    def __str__(self) -> str:
        return f"{self.purpose} link for {self.account}"


class FormSubmission(models.Model):
    """A create form's one-time token, claimed in the transaction of the write it made.

    See clinicportal/office/once.py. Only the token's hash is kept. A repeat of the same post
    finds this row and answers as the first did: it goes to ``url`` with ``message``, or shows
    ``private`` (a password slip, encrypted) again to the same user in the same session until
    ``private_until``. ``clinicportal sweep`` forgets the rows after a day.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    session_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    url = models.CharField(max_length=2000, blank=True)
    message = models.TextField(blank=True)
    private = EncryptedTextField(blank=True)
    private_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"form sent by {self.user} at {self.created_at:%Y-%m-%d %H:%M}"


class TwoFactorDevice(models.Model):
    """An authenticator app enrolled for two-step sign-in, by a staff user or a portal account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="two_factor",
    )
    portal_account = models.OneToOneField(
        PortalAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="two_factor"
    )
    secret = EncryptedTextField()  # the authenticator key, encrypted at rest
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, portal_account__isnull=True)
                | models.Q(user__isnull=True, portal_account__isnull=False),
                name="two_factor_one_owner",
            )
        ]

    def __str__(self) -> str:
        return f"authenticator of {self.user or self.portal_account}"


class RecoveryCode(models.Model):
    device = models.ForeignKey(
        TwoFactorDevice, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recovery code of {self.device}"


class ApiKey(models.Model):
    """A practice's key for the machine API (print to portal). Only a hash is kept.

    The key reads ``cpk_<prefix>_<secret>``: the prefix finds the row and is shown in lists,
    the SHA-256 of the whole key is compared. A key has 256 random bits, so a fast hash is
    enough: there is nothing to guess that a slow one would protect.
    """

    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="api_keys"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100, help_text="What uses it, e.g. “Front desk printer”.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = [models.F("revoked_at").asc(nulls_first=True), "-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
