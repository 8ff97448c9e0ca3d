"""Tell a portal account's owner by email when how they sign in changed (ASVS 6.3.7), and of
a sign-in that may not have been theirs (ASVS 6.3.5).

Whoever made the change, the patient, someone using their password, or the office, the owner
hears of it at the address their emails go to, with when it happened and who to call if it was
not them. A change made from a device that is not theirs is then noticed the same day, not at
the next sign-in. So is someone who has the password but not the authenticator, someone who
signed in after guessing, a recovery code used to sign in, and a sign-in from a browser the
account has not used before (accounts.services.browsers). The email says what happened and
when: never a password, a code or a single-use link. Staff hear of theirs the same way, at
their own address (``staff_sign_in_notify``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from django.urls import reverse
from django.utils import timezone

from clinicportal.accounts import throttle
from clinicportal.accounts.models import PortalAccount, RecoveryCode, User
from clinicportal.accounts.services.common import portal_account_email
from clinicportal.core.http import absolute_url, office_absolute_url
from clinicportal.notifications.models import STAFF_SIGN_IN_KIND
from clinicportal.notifications.services import email_queue
from clinicportal.practices.models import StaffMember

# The throttle's window, in the minutes the emails count wrong attempts in.
WINDOW_MINUTES = int(throttle.WINDOW.total_seconds()) // 60


class SignInChange(StrEnum):
    """What changed. (The values name kinds of change, not passwords.)"""

    PASSWORD = "password"  # noqa: S105 - the owner chose a new one (ACCOUNT, a link)
    PASSWORD_CHOSEN = "password_chosen"  # noqa: S105 - the first, for the office's temporary one
    PASSWORD_REISSUED = "password_reissued"  # noqa: S105 - the office gave a temporary one
    TWO_STEP_ON = "two_step_on"
    TWO_STEP_OFF = "two_step_off"
    TWO_STEP_RESET = "two_step_reset"  # turned off by the office, for an owner who asked
    RECOVERY_CODES = "recovery_codes"


def password_change_kind(account: PortalAccount) -> SignInChange:
    """Which change a new password of the owner's is: the first, in place of the temporary one
    the office gave, or a change of their own. Ask before the new one is set."""
    return SignInChange.PASSWORD_CHOSEN if account.password_is_temporary else SignInChange.PASSWORD


def sign_in_change_notify(
    *, account: PortalAccount, change: SignInChange, renamed: bool = False
) -> None:
    """Queue the email that tells the account's owner of ``change`` (and that its username
    changed with it, when ``renamed``, without naming it), if they have an address.

    Call inside the transaction that makes the change: the email goes only if it commits.
    """
    _notice_queue(account, "sign_in_changed", {"change": change.value, "renamed": renamed})


class SignInAttempt(StrEnum):
    """A sign-in its owner should hear of, whether or not it was theirs (ASVS 6.3.5)."""

    CODE_FAILED = "code_failed"  # the right password, then a wrong code: no one signed in
    UNFINISHED = "unfinished"  # the right password, then no code at all
    # the right password in two browsers at once, and one of them gave no code
    UNFINISHED_SHARED = "unfinished_shared"
    AFTER_FAILURES = "after_failures"  # signed in after several wrong attempts
    RECOVERY_CODE = "recovery_code"  # signed in with a recovery code in place of the app's
    NEW_BROWSER = "new_browser"  # signed in from a browser the account had not used before


def sign_in_attempt_notify(
    *,
    account: PortalAccount,
    attempt: SignInAttempt,
    failures: int = 0,
    when: datetime | None = None,
    device: str = "",
) -> None:
    """Queue the email that tells the account's owner of ``attempt`` (made ``when``, if not
    now): with how many wrong attempts came before (``failures``), how many recovery codes
    are left (RECOVERY_CODE), and on what (``device``, as describe_device says, NEW_BROWSER).
    Call inside the transaction that records the attempt."""
    context: dict[str, object] = {"attempt": attempt.value, "failures": failures, "device": device}
    if when is not None:
        context["when"] = when
    if attempt is SignInAttempt.RECOVERY_CODE:
        context["codes_left"] = _codes_left(device__portal_account=account)
    _notice_queue(account, "sign_in_attempt", context)


# What a staff member is told of; the office has no others (staff cannot turn two-step off).
STAFF_EVENTS: frozenset[SignInChange | SignInAttempt] = frozenset(
    {
        SignInChange.PASSWORD,
        SignInChange.PASSWORD_CHOSEN,
        SignInChange.PASSWORD_REISSUED,
        SignInChange.RECOVERY_CODES,
        SignInAttempt.CODE_FAILED,
        SignInAttempt.UNFINISHED,
        SignInAttempt.UNFINISHED_SHARED,
        SignInAttempt.AFTER_FAILURES,
        SignInAttempt.RECOVERY_CODE,
        SignInAttempt.NEW_BROWSER,
    }
)


def staff_sign_in_notify(
    *,
    user: User,
    event: SignInChange | SignInAttempt,
    failures: int = 0,
    when: datetime | None = None,
    device: str = "",
) -> None:
    """Queue the email that tells a staff member, at their own address, of a change to how
    they sign in to the office (``event`` a SignInChange), or of a sign-in there that may not
    have been theirs (a SignInAttempt made ``when``, if not now, with ``failures`` and
    ``device`` as for the portal's). Call inside the transaction that records it. An office
    account is the key to every patient's chart: its owner is the first to know whether it
    was them."""
    if event not in STAFF_EVENTS:
        raise ValueError(f"staff are not told of {event!r}")  # its email has no words for it
    staff = StaffMember.objects.select_related("practice").filter(user=user).first()
    if staff is None or not user.email:
        return
    context: dict[str, object] = {
        "event": event.value,
        "failures": failures,
        "device": device,
        "minutes": WINDOW_MINUTES,
        "when": when or timezone.now(),
        "office_url": office_absolute_url(reverse("office:login")),
    }
    if event is SignInAttempt.RECOVERY_CODE:
        context["codes_left"] = _codes_left(device__user=user)
    email_queue(
        practice=staff.practice, to=user.email, template=STAFF_SIGN_IN_KIND, context=context
    )


def _codes_left(**owner: object) -> int:
    return RecoveryCode.objects.filter(used_at__isnull=True, **owner).count()


def _notice_queue(account: PortalAccount, template: str, context: dict[str, object]) -> None:
    """Queue ``template`` for the account's owner, with the time and the portal's address, if
    they have an address for emails."""
    to = portal_account_email(account)
    if not to:
        return
    practice = account.practice
    email_queue(
        practice=practice,
        to=to,
        template=template,
        context={
            "when": timezone.now(),
            "minutes": WINDOW_MINUTES,
            "portal_url": absolute_url(practice.portal_path()),
            **context,
        },
    )
