"""Sign-in at both doors: the password, the second step, and the throttle around them.

One attempt function serves the office and the portal: each door says only where its accounts
are, who may come in, and how its trail records a failure and a sign-in. The throttle, the
hasher run for unknown usernames, the rehash to today's parameters and the audit rows of every
failure are the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicportal.accounts import throttle, two_factor
from clinicportal.accounts.models import LoginFailure, PortalAccount, PortalGrant, User
from clinicportal.accounts.passwords import (
    hash_password,
    password_matches,
    password_needs_rehash,
    username_key,
)
from clinicportal.accounts.selectors import two_factor_device
from clinicportal.accounts.services.browsers import browser_remember
from clinicportal.accounts.services.common import USERNAME_MAX, SignInRefused, _record_for_patients
from clinicportal.accounts.services.notices import (
    SignInAttempt,
    sign_in_attempt_notify,
    staff_sign_in_notify,
)
from clinicportal.accounts.services.unfinished import sign_in_unfinished_clear
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.context import PortalActor, StaffActor, VisitorActor
from clinicportal.core.devices import describe_device
from clinicportal.practices.models import Practice, StaffMember


class Door[T: User | PortalAccount](Protocol):
    """Where one kind of account signs in."""

    @property
    def kind(self) -> LoginFailure.Door: ...

    @property
    def practice(self) -> Practice | None: ...

    def find(self, username: str) -> T | None: ...

    def get(self, pk: int) -> T | None: ...

    def may_enter(self, subject: T) -> bool: ...

    def record_failure(
        self,
        subject: T | None,
        username: str,
        *,
        ip: str | None,
        user_agent: str,
        locked: bool,
        code: bool,
    ) -> None: ...

    def record_sign_in(
        self, subject: T, *, ip: str | None, user_agent: str, awaited_at: datetime | None
    ) -> None: ...

    def record_recovery_code_used(self, subject: T, *, ip: str | None, user_agent: str) -> None: ...

    def tell_owner(
        self, subject: T, attempt: SignInAttempt, *, failures: int = 0, device: str = ""
    ) -> None: ...


# An account's grants with their patients: who may come in, and whose LOGS record it.
GRANTS = Prefetch("grants", queryset=PortalGrant.objects.select_related("patient"))
# Wrong attempts within the throttle's window, before a sign-in, that its owner is told of. A
# slip or two is common; three or more may be someone guessing who got in (ASVS 6.3.5).
AFTER_FAILURES_NOTICE = 3


@dataclass(frozen=True)
class PortalDoor:
    """A practice's patient portal: accounts with at least one patient granted."""

    practice: Practice
    kind: LoginFailure.Door = LoginFailure.Door.PORTAL

    def find(self, username: str) -> PortalAccount | None:
        key = username_key(username)[:USERNAME_MAX]
        return (
            PortalAccount.objects.filter(practice=self.practice, username_key=key, is_active=True)
            .select_related("practice")  # for the sign-in's audit rows, without a query of its own
            .prefetch_related(GRANTS)
            .first()
        )

    def get(self, pk: int) -> PortalAccount | None:
        return (
            PortalAccount.objects.filter(practice=self.practice, pk=pk, is_active=True)
            .select_related("practice")
            .prefetch_related(GRANTS)
            .first()
        )

    def may_enter(self, subject: PortalAccount) -> bool:
        return bool(subject.grants.all())

    def record_failure(
        self,
        subject: PortalAccount | None,
        username: str,
        *,
        ip: str | None,
        user_agent: str,
        locked: bool,
        code: bool,
    ) -> None:
        Action = AuditEvent.Action
        action = (
            Action.PORTAL_LOCKED_OUT
            if locked
            else Action.PORTAL_CODE_FAILED
            if code
            else Action.PORTAL_LOGIN_FAILED
        )
        visitor = VisitorActor(practice=self.practice, ip=ip, user_agent=user_agent)
        if subject is not None:  # in the LOGS of each patient the account sees
            _record_for_patients(visitor, subject, action, subject.grants.all())
        else:  # the office's trail of guesses; also the same work as for a real account
            audit_record(actor=visitor, action=action)

    def record_sign_in(
        self,
        subject: PortalAccount,
        *,
        ip: str | None,
        user_agent: str,
        awaited_at: datetime | None,
    ) -> None:
        subject.last_login_at = timezone.now()
        subject.save(update_fields=["last_login_at"])
        sign_in_unfinished_clear(subject, awaited_at)
        actor = PortalActor(account=subject, patient=None, ip=ip, user_agent=user_agent)
        _record_for_patients(actor, subject, AuditEvent.Action.PORTAL_LOGIN, subject.grants.all())

    def record_recovery_code_used(
        self, subject: PortalAccount, *, ip: str | None, user_agent: str
    ) -> None:
        actor = PortalActor(account=subject, patient=None, ip=ip, user_agent=user_agent)
        _record_for_patients(
            actor, subject, AuditEvent.Action.PORTAL_RECOVERY_CODE_USED, subject.grants.all()
        )

    def tell_owner(
        self, subject: PortalAccount, attempt: SignInAttempt, *, failures: int = 0, device: str = ""
    ) -> None:
        sign_in_attempt_notify(account=subject, attempt=attempt, failures=failures, device=device)


@dataclass(frozen=True)
class OfficeDoor:
    """The office console: active users, whose practice the staff record names."""

    kind: LoginFailure.Door = LoginFailure.Door.OFFICE
    practice: None = None

    def find(self, username: str) -> User | None:
        return User.objects.filter(username=username[:USERNAME_MAX], is_active=True).first()

    def get(self, pk: int) -> User | None:
        return User.objects.filter(pk=pk, is_active=True).first()

    def may_enter(self, subject: User) -> bool:
        return True  # the sign-in form says itself when a user is no practice's staff

    def record_failure(
        self,
        subject: User | None,
        username: str,
        *,
        ip: str | None,
        user_agent: str,
        locked: bool,
        code: bool,
    ) -> None:
        """In the trail of the practice whose login it names; a username no practice has
        stays in the throttle's count only: there is no practice whose trail it belongs to."""
        staff = (
            StaffMember.objects.select_related("practice", "user")
            .filter(user__username=username[:USERNAME_MAX])
            .first()
        )
        if staff is None:
            return
        Action = AuditEvent.Action
        action = (
            Action.STAFF_LOCKED_OUT
            if locked
            else Action.STAFF_CODE_FAILED
            if code
            else Action.STAFF_LOGIN_FAILED
        )
        visitor = VisitorActor(
            practice=staff.practice, ip=ip, user_agent=user_agent, name=staff.user.username
        )
        audit_record(actor=visitor, action=action, target=staff.user)

    def record_sign_in(
        self, subject: User, *, ip: str | None, user_agent: str, awaited_at: datetime | None
    ) -> None:
        sign_in_unfinished_clear(subject, awaited_at)
        staff = StaffMember.objects.select_related("practice").filter(user=subject).first()
        if staff is not None:
            actor = StaffActor(user=subject, staff=staff, ip=ip, user_agent=user_agent)
            audit_record(actor=actor, action=AuditEvent.Action.STAFF_LOGIN)

    def record_recovery_code_used(self, subject: User, *, ip: str | None, user_agent: str) -> None:
        staff = StaffMember.objects.select_related("practice").filter(user=subject).first()
        if staff is not None:
            actor = StaffActor(user=subject, staff=staff, ip=ip, user_agent=user_agent)
            audit_record(
                actor=actor, action=AuditEvent.Action.STAFF_RECOVERY_CODE_USED, target=subject
            )

    def tell_owner(
        self, subject: User, attempt: SignInAttempt, *, failures: int = 0, device: str = ""
    ) -> None:
        staff_sign_in_notify(user=subject, event=attempt, failures=failures, device=device)


def _refuse[T: User | PortalAccount](
    door: Door[T],
    subject: T | None,
    username: str,
    *,
    ip: str | None,
    user_agent: str,
    locked: bool,
    message: str,
    code: bool = False,
    wrong_code: bool = False,
) -> SignInRefused:
    """Count a failed attempt toward the lockout and record it; return the refusal to raise.

    A ``code`` was refused at the second step; a ``wrong_code`` was checked and is not one,
    after the right password. Its owner is told of the first in the throttle's window: someone
    who has their password did not get in.
    """
    key = username_key(username)[:USERNAME_MAX]
    Stage = LoginFailure.Stage
    with transaction.atomic():
        first_wrong_code = wrong_code and not throttle.wrong_code_lately(
            door=door.kind, practice=door.practice, username_key=key
        )
        throttle.login_failure_record(
            door=door.kind,
            practice=door.practice,
            username_key=key,
            ip=ip,
            stage=Stage.WRONG_CODE if wrong_code else Stage.CODE_REFUSED if code else Stage.DOOR,
        )
        door.record_failure(
            subject, username, ip=ip, user_agent=user_agent, locked=locked, code=code
        )
        if first_wrong_code and subject is not None:
            door.tell_owner(subject, SignInAttempt.CODE_FAILED)
    if locked:
        return SignInRefused(_(throttle.LOCKED_MESSAGE), code="locked")
    return SignInRefused(message)


def _temporary_password_expired(subject: User | PortalAccount) -> bool:
    """Whether a password someone else chose outlived TEMPORARY_PASSWORD_LIFETIME, at either door.

    It is refused even when right: its owner never chose it, and it may have been read off paper
    or an email by someone else since.
    """
    expires = subject.temporary_password_expires_at
    return subject.password_is_temporary and expires is not None and expires < timezone.now()


def sign_in_attempt[T: User | PortalAccount](
    door: Door[T], *, username: str, password: str, ip: str | None, user_agent: str
) -> T:
    """Check a username and password at ``door``; return the account, not yet signed in.

    Raises SignInRefused with a message safe to show. Guessing is throttled per username and
    per address, the password hasher runs even for unknown usernames, and every failure is
    recorded in the practice's trail. A right password still owes the second step, if the
    account has one, and then ``sign_in_complete``.
    """
    key = username_key(username)[:USERNAME_MAX]
    subject = door.find(username)
    locked = throttle.login_locked(door=door.kind, practice=door.practice, username_key=key, ip=ip)
    matches = password_matches(password, subject.password if subject is not None else None)
    if locked or not matches or subject is None or not door.may_enter(subject):
        raise _refuse(
            door,
            subject,
            username,
            ip=ip,
            user_agent=user_agent,
            locked=locked,
            message=_("That username and password do not match. Please check them and try again."),
        )
    if _temporary_password_expired(subject):
        raise SignInRefused(
            _("This temporary password has expired. Please ask the office for a new one."),
            code="expired",
        )
    if password_needs_rehash(subject.password):
        subject.password = hash_password(password)  # to the current Argon2id parameters
        subject.save(update_fields=["password"])
    return subject


def second_step_attempt[T: User | PortalAccount](
    door: Door[T],
    *,
    subject_id: int,
    code: str,
    ip: str | None,
    user_agent: str,
    browser: str | None,
    awaited_at: datetime | None = None,
) -> T:
    """Check the authenticator (or recovery) code of an account that gave its password.

    On success the sign-in is complete (recorded); raises SignInRefused otherwise.
    ``browser``: its token (core.known_browser), or None. ``awaited_at``: the mark its password
    set (sign_in_unfinished_watch), if it set one.
    """
    subject = door.get(subject_id)
    device = two_factor_device(subject) if subject is not None else None
    if subject is None or device is None:
        raise SignInRefused(_("Please sign in again."))
    username = subject.username
    key = username_key(username)[:USERNAME_MAX]
    locked = throttle.login_locked(door=door.kind, practice=door.practice, username_key=key, ip=ip)
    used = None if locked else two_factor.two_factor_check(device=device, code=code)
    if used is None:
        raise _refuse(
            door,
            subject,
            username,
            ip=ip,
            user_agent=user_agent,
            locked=locked,
            message=_(two_factor.WRONG_CODE),
            code=True,
            wrong_code=not locked and not two_factor.two_factor_replayed(device=device, code=code),
        )
    recovery_code = used == two_factor.RECOVERY
    with transaction.atomic():
        if recovery_code:
            door.record_recovery_code_used(subject, ip=ip, user_agent=user_agent)
        sign_in_complete(
            door,
            subject,
            ip=ip,
            user_agent=user_agent,
            browser=browser,
            recovery_code=recovery_code,
            awaited_at=awaited_at,
        )
    return subject


def sign_in_complete[T: User | PortalAccount](
    door: Door[T],
    subject: T,
    *,
    ip: str | None,
    user_agent: str,
    browser: str | None,
    recovery_code: bool = False,
    awaited_at: datetime | None = None,
) -> None:
    """Record a finished sign-in (after the password, and the code if two-step is on) from the
    browser of token ``browser`` (core.known_browser; None when it sent none).

    Its owner is told, in one email, if a ``recovery_code`` was its second step, and if it came
    after several wrong attempts; else if it came from a browser the account had not used
    before (browser_remember). Only the unfinished-sign-in mark its own password set
    (``awaited_at``) is cleared: one someone else left before it is still told.
    """
    key = username_key(subject.username)[:USERNAME_MAX]
    with transaction.atomic():
        failures = throttle.login_failures_clear(
            door=door.kind, practice=door.practice, username_key=key
        )
        door.record_sign_in(subject, ip=ip, user_agent=user_agent, awaited_at=awaited_at)
        new_browser = browser_remember(subject, browser)
        failures = failures if failures >= AFTER_FAILURES_NOTICE else 0
        if recovery_code:
            door.tell_owner(subject, SignInAttempt.RECOVERY_CODE, failures=failures)
        elif failures:
            door.tell_owner(subject, SignInAttempt.AFTER_FAILURES, failures=failures)
        elif new_browser:
            door.tell_owner(subject, SignInAttempt.NEW_BROWSER, device=describe_device(user_agent))
