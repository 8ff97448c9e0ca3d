"""Portal accounts: issuing access, authorized web users, sign-in, sessions and passwords."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicportal.accounts import throttle, two_factor
from clinicportal.accounts.models import (
    ApiKey,
    LoginFailure,
    PortalAccount,
    PortalGrant,
    PortalLink,
    PortalSession,
    User,
)
from clinicportal.accounts.passwords import (
    hash_password,
    password_matches,
    password_needs_rehash,
    propose_username,
    temporary_password,
    username_key,
    validate_portal_password,
)
from clinicportal.accounts.selectors import two_factor_device, two_factor_pending
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.context import (
    Actor,
    ApiActor,
    PortalActor,
    StaffActor,
    VisitorActor,
    client_ip,
    require_admin,
    require_own_practice,
)
from clinicportal.notifications.models import OutboxEmail
from clinicportal.notifications.services import email_queue
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice

TEMPORARY_PASSWORD_LIFETIME = datetime.timedelta(days=7)
USERNAME_MAX = 150


@dataclass(frozen=True)
class IssuedCredentials:
    """What the office hands over once: never stored in the clear."""

    account: PortalAccount
    password: str
    temporary: bool
    expires_at: datetime.datetime | None


class SignInRefused(Exception):
    """Sign-in did not succeed; ``message`` is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Office side ---------------------------------------------------------------------------------


def portal_username_suggest(*, practice: Practice, patient: Patient) -> str:
    """Return a readable username for the patient that is free in the practice."""
    base = propose_username(patient.first_name, patient.last_name)
    taken = set(
        PortalAccount.objects.filter(practice=practice, username_key__startswith=base).values_list(
            "username_key", flat=True
        )
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"


def _clean_username(username: str) -> str:
    username = username.strip()
    if not username:
        raise ValidationError({"username": "Please enter a username."})
    if len(username) > USERNAME_MAX or any(ch.isspace() or not ch.isprintable() for ch in username):
        raise ValidationError(
            {"username": "Use up to 150 letters, digits or symbols, without spaces."}
        )
    return username


def _username_free(
    practice: Practice, username: str, *, except_account: PortalAccount | None
) -> None:
    clash = PortalAccount.objects.filter(practice=practice, username_key=username_key(username))
    if except_account is not None:
        clash = clash.exclude(pk=except_account.pk)
    if clash.exists():
        raise ValidationError(
            {"username": "This username is taken in this practice. Please choose another."}
        )


def _set_password(
    account: PortalAccount, password: str | None, *, temporary: bool
) -> tuple[str, bool, datetime.datetime | None]:
    if password is None:
        password, temporary = temporary_password(), True
    else:
        try:
            validate_portal_password(password, account)
        except ValidationError as exc:
            raise ValidationError({"password": exc.error_list}) from None
    expires = timezone.now() + TEMPORARY_PASSWORD_LIFETIME if temporary else None
    account.password = hash_password(password)
    account.password_is_temporary = temporary
    account.temporary_password_expires_at = expires
    account.password_changed_at = timezone.now()
    return password, temporary, expires


def portal_access_issue(
    *, actor: StaffActor, patient: Patient, username: str, password: str | None
) -> IssuedCredentials:
    """Give the patient portal access, or reissue it: a new temporary password either way.

    ``password`` None means "Default": a strong one is generated. The password the office
    hands out is always temporary: the patient must set their own at first sign-in. Reissuing
    ends every session of the account.
    """
    require_own_practice(actor, patient)
    username = _clean_username(username)
    with transaction.atomic():
        grant = (
            PortalGrant.objects.select_for_update()
            .select_related("account")
            .filter(patient=patient, kind=PortalGrant.Kind.PATIENT)
            .first()
        )
        account = grant.account if grant else PortalAccount(practice=actor.practice)
        _username_free(actor.practice, username, except_account=grant.account if grant else None)
        account.username = username
        account.username_key = username_key(username)
        account.display_name = patient.full_name
        account.email = patient.email
        account.is_active = True
        plain, temporary, expires = _set_password(account, password, temporary=True)
        account.save()
        if grant is None:
            PortalGrant.objects.create(
                practice=actor.practice,
                account=account,
                patient=patient,
                kind=PortalGrant.Kind.PATIENT,
                created_by=actor.user,
            )
        portal_sessions_end(account=account)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PORTAL_ACCESS_ISSUED,
            target=account,
            patient=patient,
        )
    return IssuedCredentials(account, plain, temporary, expires)


def authorized_user_add(
    *,
    actor: StaffActor,
    patient: Patient,
    username: str,
    password: str | None,
    display_name: str,
    note: str,
    email: str = "",
) -> IssuedCredentials:
    """Add an authorized web user (a guardian, a spouse) to the patient's portal.

    A password the person asked for is theirs to keep; "Default" generates a temporary one.
    """
    require_own_practice(actor, patient)
    username = _clean_username(username)
    display_name = display_name.strip()
    if not display_name:
        raise ValidationError({"display_name": "Please enter the person's name."})
    with transaction.atomic():
        _username_free(actor.practice, username, except_account=None)
        account = PortalAccount(
            practice=actor.practice,
            username=username,
            username_key=username_key(username),
            display_name=display_name[:200],
            email=email.strip(),
        )
        plain, temporary, expires = _set_password(account, password, temporary=False)
        account.full_clean()
        account.save()
        _grant_authorized(actor, patient, account, note)
    return IssuedCredentials(account, plain, temporary, expires)


def authorized_user_link(
    *, actor: StaffActor, patient: Patient, username: str, note: str
) -> PortalGrant:
    """Authorize an existing authorized web user of the practice for one more patient."""
    require_own_practice(actor, patient)
    account = PortalAccount.objects.filter(
        practice=actor.practice, username_key=username_key(username), is_active=True
    ).first()
    if account is None or account.grants.filter(kind=PortalGrant.Kind.PATIENT).exists():
        raise ValidationError(
            {"username": "No authorized web user of this practice has that username."}
        )
    if account.grants.filter(patient=patient).exists():
        raise ValidationError({"username": "This person can already see this patient's portal."})
    with transaction.atomic():
        return _grant_authorized(actor, patient, account, note)


def _grant_authorized(
    actor: StaffActor, patient: Patient, account: PortalAccount, note: str
) -> PortalGrant:
    grant = PortalGrant.objects.create(
        practice=actor.practice,
        account=account,
        patient=patient,
        kind=PortalGrant.Kind.AUTHORIZED,
        note=note.strip()[:200],
        created_by=actor.user,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.PORTAL_AUTHORIZED_USER_ADDED,
        target=account,
        patient=patient,
    )
    return grant


def authorized_user_remove(*, actor: StaffActor, grant: PortalGrant) -> None:
    """Take an authorized user's access to one patient away and end their sessions at once."""
    require_own_practice(actor, grant.patient)
    if grant.kind != PortalGrant.Kind.AUTHORIZED:
        raise PermissionError("Only authorized web users are removed this way.")
    account, patient = grant.account, grant.patient
    with transaction.atomic():
        grant.delete()
        if not account.grants.exists():
            account.is_active = False
            account.save(update_fields=["is_active"])
        portal_sessions_end(account=account)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PORTAL_AUTHORIZED_USER_REMOVED,
            target=account,
            patient=patient,
        )


# Sessions ------------------------------------------------------------------------------------


def portal_sessions_end(*, account: PortalAccount, except_key: str | None = None) -> int:
    """End the account's portal sessions (all, or all but ``except_key``); return how many."""
    sessions = PortalSession.objects.filter(account=account)
    if except_key is not None:
        sessions = sessions.exclude(session_key=except_key)
    keys = list(sessions.values_list("session_key", flat=True))
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(session_key=key).delete()
    sessions.delete()
    return len(keys)


# Patient side --------------------------------------------------------------------------------


def _record_for_patients(actor: Actor, account: PortalAccount, action: AuditEvent.Action) -> None:
    # One row per patient the account sees, so that each patient's LOGS shows it.
    for grant in account.grants.select_related("patient"):
        audit_record(actor=actor, action=action, target=account, patient=grant.patient)


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


def portal_two_factor_turn_on(*, actor: PortalActor, code: str) -> list[str]:
    """Confirm the enrolled authenticator; return the recovery codes to show once."""
    device = two_factor_pending(actor.account)
    if device is None:
        raise ValidationError({"code": "Please start again: scan a new QR code."})
    with transaction.atomic():
        codes = two_factor.two_factor_confirm(device=device, code=code)
        _record_for_patients(actor, actor.account, AuditEvent.Action.PORTAL_TWO_FACTOR_ON)
    return codes


def portal_two_factor_turn_off(*, actor: PortalActor, password: str) -> None:
    if not password_matches(password, actor.account.password):
        raise ValidationError({"password": "That is not your current password."})
    with transaction.atomic():
        two_factor.two_factor_remove(owner=actor.account)
        _record_for_patients(actor, actor.account, AuditEvent.Action.PORTAL_TWO_FACTOR_OFF)


def portal_session_start(
    *, account: PortalAccount, session_key: str, ip: str | None, user_agent: str
) -> None:
    PortalSession.objects.create(
        account=account,
        session_key=session_key,
        last_seen_at=timezone.now(),
        ip=ip,
        user_agent=user_agent,
    )


def portal_session_touch(*, session_key: str) -> None:
    """Note activity on a session (for the office's view of who is signed in)."""
    PortalSession.objects.filter(session_key=session_key).update(last_seen_at=timezone.now())


def portal_sign_out(*, actor: PortalActor, session_key: str, timed_out: bool = False) -> None:
    """End this session, recording a sign-out (or a time-out) in the patients' LOGS."""
    action = AuditEvent.Action.PORTAL_TIMED_OUT if timed_out else AuditEvent.Action.PORTAL_LOGOUT
    with transaction.atomic():
        PortalSession.objects.filter(account=actor.account, session_key=session_key).delete()
        _record_for_patients(actor, actor.account, action)


def portal_password_change(
    *, actor: PortalActor, current: str | None, new: str, session_key: str
) -> None:
    """Set a new password for the signed-in account and end its other sessions.

    ``current`` is required, except right after signing in with a temporary password.
    """
    account = actor.account
    if current is None:
        if not account.password_is_temporary:
            raise PermissionError("The current password is required.")
    elif not password_matches(current, account.password):
        raise ValidationError({"current_password": "That is not your current password."})
    if password_matches(new, account.password):
        raise ValidationError(
            {"new_password": "Please choose a password different from the current one."}
        )
    with transaction.atomic():
        _set_password(account, new, temporary=False)
        account.save()
        portal_sessions_end(account=account, except_key=session_key)
        _record_for_patients(actor, account, AuditEvent.Action.PORTAL_PASSWORD_CHANGED)


# Office sign-in ------------------------------------------------------------------------------


def staff_authenticate(*, request: HttpRequest, username: str, password: str) -> User | None:
    """Check an office username and password, throttled like the portal's; None if wrong.

    Raises SignInRefused while the username or the address is locked out.
    """
    key = username_key(username)[:USERNAME_MAX]
    door = LoginFailure.Door.OFFICE
    ip = client_ip(request)
    if throttle.login_locked(door=door, practice=None, username_key=key, ip=ip):
        password_matches(password, None)  # the same time as a real check
        throttle.login_failure_record(door=door, practice=None, username_key=key, ip=ip)
        raise SignInRefused(throttle.LOCKED_MESSAGE)
    user = authenticate(request, username=username, password=password)
    if user is None:
        throttle.login_failure_record(door=door, practice=None, username_key=key, ip=ip)
        return None
    throttle.login_failures_clear(door=door, practice=None, username_key=key)
    return user


# Links by email ------------------------------------------------------------------------------

SET_PASSWORD_LINK_LIFETIME = datetime.timedelta(days=7)
RESET_LINK_LIFETIME = datetime.timedelta(hours=2)


class LinkInvalid(Exception):
    """The link is unknown, used or expired; ``message`` says what to do next."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _link_create(
    account: PortalAccount, purpose: str, lifetime: datetime.timedelta
) -> tuple[str, PortalLink]:
    token = secrets.token_urlsafe(32)
    link = PortalLink.objects.create(
        account=account,
        purpose=purpose,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        expires_at=timezone.now() + lifetime,
    )
    return token, link


def _link_url(base_url: str, practice: Practice, token: str) -> str:
    return f"{base_url.rstrip('/')}{practice.portal_path()}password/{token}/"


def portal_access_email(*, actor: StaffActor, patient: Patient, base_url: str) -> OutboxEmail:
    """Email the patient the portal address, their username and a single-use set-password link.

    Never a password. Refuses kindly when the patient has no email address or no access yet.
    """
    require_own_practice(actor, patient)
    grant = (
        PortalGrant.objects.select_related("account")
        .filter(patient=patient, kind=PortalGrant.Kind.PATIENT)
        .first()
    )
    if grant is None:
        raise ValidationError(
            f"{patient.first_name} has no portal access yet. Set it up first, then email it."
        )
    if not patient.email:
        raise ValidationError(
            f"{patient.first_name} has no email address. "
            "Add one with Edit details, or print the slip instead."
        )
    with transaction.atomic():
        token, link = _link_create(
            grant.account, PortalLink.Purpose.SET_PASSWORD, SET_PASSWORD_LINK_LIFETIME
        )
        email = email_queue(
            practice=actor.practice,
            to=patient.email,
            template="portal_access",
            context={
                "portal_url": f"{base_url.rstrip('/')}{actor.practice.portal_path()}",
                "username": grant.account.username,
                "link": _link_url(base_url, actor.practice, token),
                "expires_at": link.expires_at,
            },
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PORTAL_ACCESS_EMAILED,
            target=grant.account,
            patient=patient,
        )
    return email


RESETS_PER_ACCOUNT = 3


def portal_password_reset_request(
    *, practice: Practice, identifier: str, base_url: str, ip: str | None, user_agent: str
) -> None:
    """Email a reset link to the account named by username or email address, if there is one.

    Says nothing about whether an account exists: the caller shows the same page either way,
    and the email itself is sent later by the worker, so the response time tells nothing.
    Quietly sends nothing past RESETS_PER_ACCOUNT links an account in the throttle window, or
    past the throttle's limit of requests from one address, so nobody can flood a mailbox.
    """
    key = username_key(identifier)[:USERNAME_MAX]
    door = LoginFailure.Door.RESET
    if throttle.address_locked(door=door, ip=ip):
        return
    throttle.login_failure_record(door=door, practice=practice, username_key=key, ip=ip)
    accounts = PortalAccount.objects.filter(practice=practice, is_active=True)
    account = accounts.filter(username_key=key).first()
    if account is None and "@" in identifier:
        account = accounts.filter(email__iexact=identifier.strip()).first()
    address = _email_for(account) if account is not None else ""
    if account is None or not address:
        return
    recent = account.links.filter(
        purpose=PortalLink.Purpose.RESET, created_at__gte=timezone.now() - throttle.WINDOW
    )
    if recent[:RESETS_PER_ACCOUNT].count() >= RESETS_PER_ACCOUNT:
        return
    with transaction.atomic():
        token, link = _link_create(account, PortalLink.Purpose.RESET, RESET_LINK_LIFETIME)
        email_queue(
            practice=practice,
            to=address,
            template="password_reset",
            context={
                "username": account.username,
                "link": _link_url(base_url, practice, token),
                "expires_at": link.expires_at,
            },
        )
        visitor = VisitorActor(practice=practice, ip=ip, user_agent=user_agent)
        _record_for_patients(visitor, account, AuditEvent.Action.PORTAL_RESET_REQUESTED)


def _email_for(account: PortalAccount) -> str:
    if account.email:
        return account.email
    own = account.grants.select_related("patient").filter(kind=PortalGrant.Kind.PATIENT).first()
    return own.patient.email if own else ""


def portal_link_get(*, practice: Practice, token: str) -> PortalLink:
    """Return the usable link for ``token`` at this practice, or raise LinkInvalid."""
    link = (
        PortalLink.objects.select_related("account")
        .filter(token_hash=hashlib.sha256(token.encode()).hexdigest(), account__practice=practice)
        .first()
    )
    ask_again = "Please ask for a new link with “Forgot your password?”, or call the office."
    if link is None or not link.account.is_active:
        raise LinkInvalid(f"This link is not valid. {ask_again}")
    if link.used_at is not None:
        raise LinkInvalid(f"This link was already used. {ask_again}")
    if link.expires_at < timezone.now():
        raise LinkInvalid(f"This link has expired. {ask_again}")
    return link


def portal_link_use(
    *, practice: Practice, token: str, new_password: str, ip: str | None, user_agent: str
) -> PortalAccount:
    """Set the password through a link: once only; every session of the account ends."""
    with transaction.atomic():
        link = portal_link_get(practice=practice, token=token)
        used = PortalLink.objects.filter(pk=link.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if not used:
            raise LinkInvalid("This link was already used.")
        account = link.account
        _set_password(account, new_password, temporary=False)
        account.save()
        portal_sessions_end(account=account)
        actor = PortalActor(account=account, patient=None, ip=ip, user_agent=user_agent)
        _record_for_patients(actor, account, AuditEvent.Action.PORTAL_PASSWORD_CHANGED)
    return account


def staff_second_step(*, user_id: int, code: str, ip: str | None) -> User:
    """Check an office user's authenticator (or recovery) code after their password."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    device = two_factor_device(user) if user is not None else None
    if user is None or device is None:
        raise SignInRefused("Please sign in again.")
    door = LoginFailure.Door.OFFICE
    key = username_key(user.username)
    if throttle.login_locked(door=door, practice=None, username_key=key, ip=ip):
        raise SignInRefused(throttle.LOCKED_MESSAGE)
    if not two_factor.two_factor_check(device=device, code=code):
        throttle.login_failure_record(door=door, practice=None, username_key=key, ip=ip)
        raise SignInRefused(two_factor.WRONG_CODE)
    throttle.login_failures_clear(door=door, practice=None, username_key=key)
    return user


def two_factor_enrol(
    *, owner: User | PortalAccount, issuer: str, label: str
) -> two_factor.Enrollment:
    """Start enrolling an authenticator for a staff user or a portal account (not yet on)."""
    return two_factor.two_factor_begin(owner=owner, issuer=issuer, label=label)


def staff_two_factor_turn_on(
    *, user: User, code: str, ip: str | None, user_agent: str
) -> list[str]:
    """Confirm an office user's authenticator; return the recovery codes to show once."""
    device = two_factor_pending(user)
    if device is None:
        raise ValidationError({"code": "Please start again: scan a new QR code."})
    staff = user.staff_member
    with transaction.atomic():
        codes = two_factor.two_factor_confirm(device=device, code=code)
        actor = StaffActor(user=user, staff=staff, ip=ip, user_agent=user_agent)
        audit_record(actor=actor, action=AuditEvent.Action.STAFF_TWO_FACTOR_ON, target=user)
    return codes


def staff_two_factor_turn_off(*, actor: StaffActor, password: str) -> None:
    """Turn two-step sign-in off for a staff member; admins must keep it."""
    if actor.is_admin:
        raise ValidationError("Admins must keep two-step sign-in on.")
    if not actor.user.check_password(password):
        raise ValidationError({"password": "That is not your current password."})
    with transaction.atomic():
        two_factor.two_factor_remove(owner=actor.user)
        audit_record(actor=actor, action=AuditEvent.Action.STAFF_TWO_FACTOR_OFF, target=actor.user)


API_KEY_PREFIX = "cpk_"


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_create(*, actor: StaffActor, name: str) -> tuple[ApiKey, str]:
    """Make a new API key for the practice (admins only); return it with the key, shown once."""
    require_admin(actor)
    name = name.strip()
    if not name:
        raise ValidationError("Please name the key after what will use it.")
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            practice=actor.practice,
            name=name,
            prefix=prefix,
            key_hash=api_key_hash(key),
            created_by=actor.user,
        )
        audit_record(actor=actor, action=AuditEvent.Action.API_KEY_CREATED, target=api_key)
    return api_key, key


def api_key_revoke(*, actor: StaffActor, api_key: ApiKey) -> None:
    """Stop a key working at once. Revoked keys stay listed, for the record."""
    require_admin(actor)
    if api_key.practice_id != actor.practice.pk:
        raise PermissionError("An API key of another practice.")
    with transaction.atomic():
        changed = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor.user
        )
        if changed:
            audit_record(actor=actor, action=AuditEvent.Action.API_KEY_REVOKED, target=api_key)


class ApiKeysPaused(Exception):
    """Too many wrong keys from this address lately; try again after the window."""


def api_key_authenticate(*, key: str, ip: str | None, user_agent: str = "") -> ApiKey | None:
    """Return the active key that ``key`` is, noting its use; None for anything else.

    Wrong keys count against the address like failed sign-ins (ApiKeysPaused past the limit),
    and a revoked key's use is recorded in its practice's audit trail.
    """
    door = LoginFailure.Door.API
    if throttle.address_locked(door=door, ip=ip):
        raise ApiKeysPaused()
    key = key.strip()
    parts = key.split("_", 2)
    api_key = None
    if len(parts) == 3 and f"{parts[0]}_" == API_KEY_PREFIX:
        api_key = ApiKey.objects.select_related("practice").filter(prefix=parts[1]).first()
    if api_key is None or not secrets.compare_digest(api_key.key_hash, api_key_hash(key)):
        throttle.login_failure_record(door=door, practice=None, username_key="", ip=ip)
        return None
    if not api_key.is_active:
        with transaction.atomic():
            throttle.login_failure_record(door=door, practice=None, username_key="", ip=ip)
            audit_record(
                actor=ApiActor(api_key=api_key, ip=ip, user_agent=user_agent),
                action=AuditEvent.Action.API_KEY_REFUSED,
                target=api_key,
            )
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > datetime.timedelta(minutes=1):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
