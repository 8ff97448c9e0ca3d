"""Issuing portal access and authorized web users; setting and changing portal passwords."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicportal.accounts.models import (
    PortalAccount,
    PortalGrant,
)
from clinicportal.accounts.passwords import (
    TEMPORARY_PASSWORD_LIFETIME,
    hash_password,
    propose_username,
    temporary_password,
    username_key,
    validate_portal_password,
)
from clinicportal.accounts.services.common import (
    USERNAME_MAX,
    _record_for_patients,
    password_change_check,
)
from clinicportal.accounts.services.notices import (
    SignInChange,
    password_change_kind,
    sign_in_change_notify,
)
from clinicportal.accounts.services.sessions import portal_sessions_end
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.access import NotFound, require_reachable
from clinicportal.core.context import (
    PortalActor,
    StaffActor,
)
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice


@dataclass(frozen=True)
class IssuedCredentials:
    """What the office hands over once: never stored in the clear."""

    account: PortalAccount
    password: str
    temporary: bool
    expires_at: datetime.datetime | None


class PortalAccessJustSetUp(Exception):
    """Someone set up the patient's portal access while this request was setting it up too.

    ``grant`` is theirs: its account, who created it and when. Reissuing is the way to a new
    slip; silently reissuing here would make the other person's slip wrong.
    """

    def __init__(self, grant: PortalGrant) -> None:
        super().__init__(f"Portal access of patient {grant.patient_id} was just set up.")
        self.grant = grant


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
        raise ValidationError({"username": _("Please enter a username.")})
    if len(username) > USERNAME_MAX or any(ch.isspace() or not ch.isprintable() for ch in username):
        raise ValidationError(
            {"username": _("Use up to 150 letters, digits or symbols, without spaces.")}
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
            {"username": _("This username is taken in this practice. Please choose another.")}
        )


def _password_checked(account: PortalAccount, password: str | None) -> None:
    """Refuse a chosen password that may not be the account's (None: one is generated).

    Called before any transaction: the breached-password check asks a service elsewhere, and
    an open transaction would hold its locks (SQLite's one write lock) while it answers.
    """
    if password is None:
        return
    try:
        validate_portal_password(password, account)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from None


def _set_password(
    account: PortalAccount, password: str | None, *, temporary: bool
) -> tuple[str, bool, datetime.datetime | None]:
    """Set a password ``_password_checked`` took, or a generated temporary one for None."""
    if password is None:
        password, temporary = temporary_password(), True
    expires = timezone.now() + TEMPORARY_PASSWORD_LIFETIME if temporary else None
    account.password = hash_password(password)
    account.password_is_temporary = temporary
    account.temporary_password_expires_at = expires
    account.password_changed_at = timezone.now()
    return password, temporary, expires


def portal_access_issue(
    *,
    actor: StaffActor,
    patient: Patient,
    username: str,
    password: str | None,
    new_only: bool = False,
) -> IssuedCredentials:
    """Give the patient portal access, or reissue it: a new temporary password either way.

    ``password`` None means "Default": a strong one is generated. The password the office
    hands out is always temporary: the patient must set their own at first sign-in. Reissuing
    ends every session of the account.

    ``new_only`` (the form was a "Set up" one) refuses with PortalAccessJustSetUp when the
    patient has access by now, rather than reissue it. The same is raised when another setup
    commits between this one's checks and its insert (the unique username or one own account
    per patient): a second post at the same moment is told, never answered with a 500.
    """
    require_reachable(actor, patient)
    username = _clean_username(username)
    # As the account will be named: the password may not be like its username or name.
    named = PortalAccount(
        practice=actor.practice, username=username, display_name=patient.full_name
    )
    _password_checked(named, password)
    grant: PortalGrant | None = None
    try:
        with transaction.atomic():
            grant = (
                PortalGrant.objects.select_for_update()
                .select_related("account")
                .filter(patient=patient, kind=PortalGrant.Kind.PATIENT)
                .first()
            )
            if grant is not None and new_only:
                raise PortalAccessJustSetUp(grant)
            account = grant.account if grant else PortalAccount(practice=actor.practice)
            renamed = grant is not None and account.username != username
            try:
                _username_free(
                    actor.practice, username, except_account=grant.account if grant else None
                )
            except ValidationError:
                # Another setup of this patient committed after the grant was read: say so,
                # as when it commits before (above) or during the insert (IntegrityError).
                taken = None if grant else _just_taken(patient, reissuing=False)
                if isinstance(taken, PortalAccessJustSetUp):
                    raise taken from None
                raise
            account.username = username
            account.username_key = username_key(username)
            account.display_name = patient.full_name
            account.email = ""  # a patient's own login follows the patient's address
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
            if grant is not None:  # reissued: the owner hears of it
                sign_in_change_notify(
                    account=account, change=SignInChange.PASSWORD_REISSUED, renamed=renamed
                )
    except IntegrityError:
        # Another transaction committed between the checks above and the insert.
        raise _just_taken(patient, reissuing=grant is not None) from None
    return IssuedCredentials(account, plain, temporary, expires)


def _just_taken(patient: Patient, *, reissuing: bool) -> Exception:
    """What to say when the database refused a username or a second own account for the patient.

    A reissue can only have met another account's new username; a setup may have met another
    setup of this same patient, which is then named.
    """
    grant = (
        PortalGrant.objects.select_related("account")
        .filter(patient=patient, kind=PortalGrant.Kind.PATIENT)
        .first()
    )
    if grant is not None and not reissuing:
        return PortalAccessJustSetUp(grant)
    return ValidationError(
        {"username": _("This username was just taken in this practice. Please choose another.")}
    )


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

    The password is temporary, whether the office typed the one the person asked for or
    "Default" generated one: someone else knows it, so the person chooses their own at first
    sign-in.
    """
    require_reachable(actor, patient)
    username = _clean_username(username)
    display_name = display_name.strip()
    if not display_name:
        raise ValidationError({"display_name": _("Please enter the person's name.")})
    account = PortalAccount(
        practice=actor.practice,
        username=username,
        username_key=username_key(username),
        display_name=display_name[:200],
        email=email.strip(),
    )
    _password_checked(account, password)
    with transaction.atomic():
        _username_free(actor.practice, username, except_account=None)
        plain, temporary, expires = _set_password(account, password, temporary=True)
        account.full_clean()
        account.save()
        _grant_authorized(actor, patient, account, note)
    return IssuedCredentials(account, plain, temporary, expires)


def authorized_user_link(
    *, actor: StaffActor, patient: Patient, username: str, note: str
) -> PortalGrant:
    """Authorize an existing authorized web user of the practice for one more patient."""
    require_reachable(actor, patient)
    account = PortalAccount.objects.filter(
        practice=actor.practice, username_key=username_key(username), is_active=True
    ).first()
    if account is None or account.grants.filter(kind=PortalGrant.Kind.PATIENT).exists():
        raise ValidationError(
            {"username": _("No authorized web user of this practice has that username.")}
        )
    if account.grants.filter(patient=patient).exists():
        raise ValidationError({"username": _("This person can already see this patient's portal.")})
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
    require_reachable(actor, grant)
    if grant.kind != PortalGrant.Kind.AUTHORIZED:
        raise NotFound(_("Only authorized web users are removed this way."))
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


def portal_password_change(
    *, actor: PortalActor, current: str | None, new: str, session_key: str
) -> None:
    """Set a new password for the signed-in account and end its other sessions.

    ``current`` is required, except right after signing in with a temporary password.
    """
    account = actor.account
    password_change_check(owner=account, current=current, new=new, ip=actor.ip, actor=actor)
    _password_checked(account, new)
    with transaction.atomic():
        locked = PortalAccount.objects.select_for_update().only("password_is_temporary")
        was_temporary = locked.get(pk=account.pk).password_is_temporary
        if current is None and not was_temporary:  # another post chose it a moment ago
            raise ValidationError({"current_password": _("Please enter your current password.")})
        account.password_is_temporary = was_temporary
        change = password_change_kind(account)
        _set_password(account, new, temporary=False)
        account.save()
        portal_sessions_end(account=account, except_key=session_key)
        _record_for_patients(actor, account, AuditEvent.Action.PORTAL_PASSWORD_CHANGED)
        sign_in_change_notify(account=account, change=change)
