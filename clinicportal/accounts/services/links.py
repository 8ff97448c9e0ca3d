"""Single-use links by email: Email Portal Access and Forgot your password."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicportal.accounts import throttle
from clinicportal.accounts.models import (
    LoginFailure,
    PortalAccount,
    PortalGrant,
    PortalLink,
)
from clinicportal.accounts.passwords import (
    username_key,
)
from clinicportal.accounts.services.common import (
    USERNAME_MAX,
    _record_for_patients,
    portal_account_email,
)
from clinicportal.accounts.services.notices import password_change_kind, sign_in_change_notify
from clinicportal.accounts.services.portal_access import _password_checked, _set_password
from clinicportal.accounts.services.sessions import portal_sessions_end
from clinicportal.audit.models import AuditEvent
from clinicportal.audit.services import audit_record
from clinicportal.core.access import require_reachable
from clinicportal.core.context import (
    PortalActor,
    StaffActor,
    VisitorActor,
)
from clinicportal.core.http import absolute_url
from clinicportal.notifications.delivery import LINK_PLACEHOLDER
from clinicportal.notifications.models import OutboxEmail
from clinicportal.notifications.services import NotFailed, email_queue, outbox_email_send_again
from clinicportal.patients.models import Patient
from clinicportal.practices.models import Practice

# At most 72 hours: a link in a mailbox is a password waiting to be set by whoever reads it.
SET_PASSWORD_LINK_LIFETIME = datetime.timedelta(hours=72)


RESET_LINK_LIFETIME = datetime.timedelta(hours=2)


class LinkGone(Exception):
    """A failed email's link was for an account that no longer exists or is switched off."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LinkInvalid(Exception):
    """The link is unknown, used or expired; ``message`` says what to do next."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def portal_links_end(*, account: PortalAccount, purpose: str) -> int:
    """End the account's unused links of ``purpose``; return how many. Newest link wins.

    Call it in the transaction that issues the account's new link of that purpose (as
    ``_link_create`` does), so that exactly one link works at any time: pressing Email Portal
    Access ten times leaves one live link, not ten. The account's row is locked, so two links
    issued at once end one another in turn. Links of the other purpose are left alone: an
    anonymous "Forgot your password?" cannot end the link the office sent.
    """
    PortalAccount.objects.select_for_update().filter(pk=account.pk).first()
    return PortalLink.objects.filter(
        account=account, purpose=purpose, used_at__isnull=True, replaced_at__isnull=True
    ).update(replaced_at=timezone.now())


def _link_create(
    account: PortalAccount, purpose: str, lifetime: datetime.timedelta
) -> tuple[str, PortalLink]:
    portal_links_end(account=account, purpose=purpose)
    token = secrets.token_urlsafe(32)
    link = PortalLink.objects.create(
        account=account,
        purpose=purpose,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        expires_at=timezone.now() + lifetime,
    )
    return token, link


def _link_url(practice: Practice, token: str) -> str:
    return absolute_url(f"{practice.portal_path()}password/{token}/")


def portal_access_email(*, actor: StaffActor, patient: Patient) -> OutboxEmail:
    """Email the patient the portal address, their username and a single-use set-password link.

    Never a password. Refuses kindly when the patient has no email address or no access yet.
    Every address in it starts with the configured CLINICPORTAL_BASE_URL, never the request's.
    """
    require_reachable(actor, patient)
    grant = (
        PortalGrant.objects.select_related("account")
        .filter(patient=patient, kind=PortalGrant.Kind.PATIENT)
        .first()
    )
    if grant is None:
        raise ValidationError(
            _("%(name)s has no portal access yet. Set it up first, then email it.")
            % {"name": patient.first_name}
        )
    if not patient.email:
        raise ValidationError(
            _(
                "%(name)s has no email address. Add one with Edit details, or print the slip "
                "instead."
            )
            % {"name": patient.first_name}
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
                "portal_url": absolute_url(actor.practice.portal_path()),
                "username": grant.account.username,
                "expires_at": link.expires_at,
            },
            link=_link_url(actor.practice, token),
        )
        PortalLink.objects.filter(pk=link.pk).update(email=email)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.PORTAL_ACCESS_EMAILED,
            target=grant.account,
            patient=patient,
        )
    return email


RESETS_PER_ACCOUNT = 3


def portal_password_reset_request(
    *, practice: Practice, identifier: str, ip: str | None, user_agent: str
) -> None:
    """Take a "Forgot your password?" request; the worker looks the account up later.

    The request does the same work whether or not an account exists (one throttle row and one
    job), so neither the answer nor its timing tells which usernames or addresses are known.
    Past the throttle's limit of requests from one address it quietly does nothing.
    """
    key = username_key(identifier)[:USERNAME_MAX]
    door = LoginFailure.Door.RESET
    if throttle.address_locked(door=door, ip=ip):
        return
    from clinicportal.accounts.tasks import send_password_reset

    with transaction.atomic():
        throttle.login_failure_record(door=door, practice=practice, username_key=key, ip=ip)
        send_password_reset.enqueue(practice.pk, identifier[: USERNAME_MAX * 2], ip, user_agent)


def portal_password_reset_send(
    *, practice: Practice, identifier: str, ip: str | None, user_agent: str
) -> OutboxEmail | None:
    """Email a reset link to the account named by username or email address, if there is one.

    Run by the worker for portal_password_reset_request. Sends nothing past
    RESETS_PER_ACCOUNT links an account in the throttle window, so nobody can flood a mailbox.
    """
    account = _account_for_reset(practice, identifier)
    address = portal_account_email(account) if account is not None else ""
    if account is None or not address:
        return None
    recent = account.links.filter(
        purpose=PortalLink.Purpose.RESET, created_at__gte=timezone.now() - throttle.WINDOW
    )
    if recent[:RESETS_PER_ACCOUNT].count() >= RESETS_PER_ACCOUNT:
        return None
    with transaction.atomic():
        email = _reset_email_queue(practice, account, address)
        visitor = VisitorActor(practice=practice, ip=ip, user_agent=user_agent)
        _record_for_patients(visitor, account, AuditEvent.Action.PORTAL_RESET_REQUESTED)
    return email


def _reset_email_queue(practice: Practice, account: PortalAccount, address: str) -> OutboxEmail:
    token, link = _link_create(account, PortalLink.Purpose.RESET, RESET_LINK_LIFETIME)
    email = email_queue(
        practice=practice,
        to=address,
        template="password_reset",
        context={"username": account.username, "expires_at": link.expires_at},
        link=_link_url(practice, token),
    )
    PortalLink.objects.filter(pk=link.pk).update(email=email)
    return email


def email_send_again(*, actor: StaffActor, email: OutboxEmail) -> OutboxEmail:
    """Send a failed email again (Outbox); return the email that will go out.

    One with a single-use link becomes a new email, written afresh with a new link (so its
    expiry date is right), and every earlier link of that kind ends. Refuses kindly (LinkGone)
    when the account has gone meanwhile, and raises NotFailed when it was sent again already.
    """
    require_reachable(actor, email)
    with transaction.atomic():
        if LINK_PLACEHOLDER not in email.body_text:
            outbox_email_send_again(actor=actor, email=email)
            return email
        if email.status != OutboxEmail.Status.FAILED or email.sent_again_as_id:
            raise NotFailed
        old = PortalLink.objects.filter(email=email).select_related("account").last()
        account = old.account if old is not None else None
        own = account.grants.filter(kind=PortalGrant.Kind.PATIENT).first() if account else None
        reset = old is not None and old.purpose == PortalLink.Purpose.RESET
        if (
            account is None
            or not account.is_active
            or not portal_account_email(account)
            or (own is None and not reset)
        ):
            raise LinkGone(
                _(
                    "This email’s link was for a portal login that has been removed or has no "
                    "email address now, so it cannot be sent again. Check the patient’s portal "
                    "access and email it from there if it is still needed."
                )
            )
        if reset or own is None:
            replacement = _reset_email_queue(actor.practice, account, portal_account_email(account))
        else:
            replacement = portal_access_email(actor=actor, patient=own.patient)
        outbox_email_send_again(actor=actor, email=email, replacement=replacement)
    return replacement


def _account_for_reset(practice: Practice, identifier: str) -> PortalAccount | None:
    accounts = PortalAccount.objects.filter(practice=practice, is_active=True)
    account = accounts.filter(username_key=username_key(identifier)[:USERNAME_MAX]).first()
    address = identifier.strip()
    if account is None and "@" in address:
        # The patient's own login goes by the patient's address; an authorized user's by theirs.
        account = (
            accounts.filter(
                Q(email__iexact=address)
                | Q(grants__kind=PortalGrant.Kind.PATIENT, grants__patient__email__iexact=address)
            )
            .order_by("pk")
            .first()
        )
    return account


def portal_link_get(*, practice: Practice, token: str) -> PortalLink:
    """Return the usable link for ``token`` at this practice, or raise LinkInvalid."""
    link = (
        PortalLink.objects.select_related("account")
        .filter(token_hash=hashlib.sha256(token.encode()).hexdigest(), account__practice=practice)
        .first()
    )
    ask_again = _("Please ask for a new link with “Forgot your password?”, or call the office.")
    if link is None or not link.account.is_active:
        raise LinkInvalid(_("This link is not valid. %(ask_again)s") % {"ask_again": ask_again})
    if link.used_at is not None:
        raise LinkInvalid(_("This link was already used. %(ask_again)s") % {"ask_again": ask_again})
    if link.replaced_at is not None:
        raise LinkInvalid(
            _(
                "A newer link was sent after this one, and only the newest works. Please use "
                "the link in the latest email, or ask for a new one with “Forgot your "
                "password?”."
            )
        )
    if link.expires_at < timezone.now():
        raise LinkInvalid(_("This link has expired. %(ask_again)s") % {"ask_again": ask_again})
    return link


def portal_link_use(
    *, practice: Practice, token: str, new_password: str, ip: str | None, user_agent: str
) -> PortalAccount:
    """Set the password through a link: once only; every session of the account ends."""
    # The password first, outside the transaction that uses the link (see _password_checked).
    _password_checked(portal_link_get(practice=practice, token=token).account, new_password)
    with transaction.atomic():
        link = portal_link_get(practice=practice, token=token)
        used = PortalLink.objects.filter(
            pk=link.pk, used_at__isnull=True, replaced_at__isnull=True
        ).update(used_at=timezone.now())
        if not used:
            raise LinkInvalid(_("This link was already used."))
        account = link.account
        change = password_change_kind(account)
        _set_password(account, new_password, temporary=False)
        account.save()
        portal_sessions_end(account=account)
        actor = PortalActor(account=account, patient=None, ip=ip, user_agent=user_agent)
        _record_for_patients(actor, account, AuditEvent.Action.PORTAL_PASSWORD_CHANGED)
        sign_in_change_notify(account=account, change=change)
    return account
