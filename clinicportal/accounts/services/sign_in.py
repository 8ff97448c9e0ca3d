"""Sign-in at both doors: the password, the second step, and the throttle around them."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicportal.accounts import throttle, two_factor
from clinicportal.accounts.models import (
    LoginFailure,
    PortalAccount,
    User,
)
from clinicportal.accounts.passwords import (
    hash_password,
    password_matches,
    password_needs_rehash,
    username_key,
)
from clinicportal.accounts.selectors import two_factor_device
from clinicportal.accounts.services.common import USERNAME_MAX, SignInRefused, _record_for_patients
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.context import (
    PortalActor,
    VisitorActor,
    client_ip,
)
from clinicportal.core.context import user_agent as request_user_agent
from clinicportal.practices.models import Practice, StaffMember


def portal_sign_in(
    *, practice: Practice, username: str, password: str, ip: str | None, user_agent: str
) -> PortalAccount:
    """Check a username and password at the practice's portal; return the account.

    Raises SignInRefused with a message safe to show. Guessing is throttled per username and
    per address, and the password hasher runs even for unknown usernames.
    """
    key = username_key(username)[:USERNAME_MAX]
    door = LoginFailure.Door.PORTAL
    account = (
        PortalAccount.objects.filter(practice=practice, username_key=key, is_active=True)
        .prefetch_related("grants")
        .first()
    )
    locked = throttle.login_locked(door=door, practice=practice, username_key=key, ip=ip)
    matches = password_matches(password, account.password if account else None)
    if locked or not matches or account is None or not account.grants.all():
        with transaction.atomic():
            throttle.login_failure_record(door=door, practice=practice, username_key=key, ip=ip)
            visitor = VisitorActor(practice=practice, ip=ip, user_agent=user_agent)
            if account is not None:
                _record_for_patients(visitor, account, AuditEvent.Action.PORTAL_LOGIN_FAILED)
            else:
                # The office's trail of guesses; also the same work as for a real account.
                audit_record(actor=visitor, action=AuditEvent.Action.PORTAL_LOGIN_FAILED)
        if locked:
            raise SignInRefused(throttle.LOCKED_MESSAGE)
        raise SignInRefused(
            "That username and password do not match. Please check them and try again."
        )
    expires = account.temporary_password_expires_at
    if account.password_is_temporary and expires is not None and expires < timezone.now():
        raise SignInRefused(
            "This temporary password has expired. Please ask the office for a new one."
        )
    if password_needs_rehash(account.password):
        account.password = hash_password(password)  # to the current Argon2id parameters
        account.save(update_fields=["password"])
    return account


def portal_sign_in_complete(*, account: PortalAccount, ip: str | None, user_agent: str) -> None:
    """Record a finished sign-in (after the password, and the code if two-step is on)."""
    with transaction.atomic():
        throttle.login_failures_clear(
            door=LoginFailure.Door.PORTAL,
            practice=account.practice,
            username_key=account.username_key,
        )
        account.last_login_at = timezone.now()
        account.save(update_fields=["last_login_at"])
        actor = PortalActor(account=account, patient=None, ip=ip, user_agent=user_agent)
        _record_for_patients(actor, account, AuditEvent.Action.PORTAL_LOGIN)


def portal_second_step(
    *, practice: Practice, account_id: int, code: str, ip: str | None, user_agent: str
) -> PortalAccount:
    """Check the authenticator (or recovery) code of an account that gave its password."""
    account = PortalAccount.objects.filter(practice=practice, pk=account_id, is_active=True).first()
    device = two_factor_device(account) if account is not None else None
    if account is None or device is None:
        raise SignInRefused("Please sign in again.")
    door = LoginFailure.Door.PORTAL
    key = account.username_key
    if throttle.login_locked(door=door, practice=practice, username_key=key, ip=ip):
        raise SignInRefused(throttle.LOCKED_MESSAGE)
    if not two_factor.two_factor_check(device=device, code=code):
        with transaction.atomic():
            throttle.login_failure_record(door=door, practice=practice, username_key=key, ip=ip)
            visitor = VisitorActor(practice=practice, ip=ip, user_agent=user_agent)
            _record_for_patients(visitor, account, AuditEvent.Action.PORTAL_LOGIN_FAILED)
        raise SignInRefused(two_factor.WRONG_CODE)
    portal_sign_in_complete(account=account, ip=ip, user_agent=user_agent)
    return account


def staff_authenticate(*, request: HttpRequest, username: str, password: str) -> User | None:
    """Check an office username and password, throttled like the portal's; None if wrong.

    Raises SignInRefused while the username or the address is locked out.
    """
    key = username_key(username)[:USERNAME_MAX]
    door = LoginFailure.Door.OFFICE
    ip = client_ip(request)
    agent = request_user_agent(request)
    if throttle.login_locked(door=door, practice=None, username_key=key, ip=ip):
        password_matches(password, None)  # the same time as a real check
        _staff_failure(username, ip, agent, AuditEvent.Action.STAFF_LOCKED_OUT)
        raise SignInRefused(throttle.LOCKED_MESSAGE)
    user = authenticate(request, username=username, password=password)
    if user is None:
        _staff_failure(username, ip, agent, AuditEvent.Action.STAFF_LOGIN_FAILED)
        return None
    throttle.login_failures_clear(door=door, practice=None, username_key=key)
    return user


def _staff_failure(username: str, ip: str | None, agent: str, action: AuditEvent.Action) -> None:
    """Count a failed office sign-in; in the audit trail of the practice whose login it names.

    A username no practice has stays in the throttle's count only: there is no practice
    whose trail it belongs to.
    """
    key = username_key(username)[:USERNAME_MAX]
    staff = (
        StaffMember.objects.select_related("practice", "user")
        .filter(user__username=username[:USERNAME_MAX])
        .first()
    )
    with transaction.atomic():
        throttle.login_failure_record(
            door=LoginFailure.Door.OFFICE, practice=None, username_key=key, ip=ip
        )
        if staff is not None:
            visitor = VisitorActor(
                practice=staff.practice, ip=ip, user_agent=agent, name=staff.user.username
            )
            audit_record(actor=visitor, action=action, target=staff.user)


def staff_second_step(*, user_id: int, code: str, ip: str | None, user_agent: str = "") -> User:
    """Check an office user's authenticator (or recovery) code after their password."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    device = two_factor_device(user) if user is not None else None
    if user is None or device is None:
        raise SignInRefused("Please sign in again.")
    door = LoginFailure.Door.OFFICE
    key = username_key(user.username)
    if throttle.login_locked(door=door, practice=None, username_key=key, ip=ip):
        _staff_failure(user.username, ip, user_agent, AuditEvent.Action.STAFF_LOCKED_OUT)
        raise SignInRefused(throttle.LOCKED_MESSAGE)
    if not two_factor.two_factor_check(device=device, code=code):
        _staff_failure(user.username, ip, user_agent, AuditEvent.Action.STAFF_LOGIN_FAILED)
        raise SignInRefused(two_factor.WRONG_CODE)
    throttle.login_failures_clear(door=door, practice=None, username_key=key)
    return user
