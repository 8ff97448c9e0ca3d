"""Tell a portal account's owner by email when how they sign in changed (ASVS 6.3.7).

Whoever made the change, the patient, someone using their password, or the office, the owner
hears of it at the address their emails go to, with when it happened and who to call if it was
not them. A change made from a device that is not theirs is then noticed the same day, not at
the next sign-in. The email says what changed and when: never a password, a code or a
single-use link.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils import timezone

from clinicportal.accounts.models import PortalAccount
from clinicportal.accounts.services.common import portal_account_email
from clinicportal.core.http import absolute_url
from clinicportal.notifications.services import email_queue


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
            **context,
            "when": timezone.now(),
            "portal_url": absolute_url(practice.portal_path()),
        },
    )
