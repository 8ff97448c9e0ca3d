"""A sign-in left at the code: the right password, then no code and no sign-in (ASVS 6.3.5).

A program trying passwords from a list stops at the code once it finds one; the account's
owner should hear of it, at either door. The account (a portal account, or a staff member's
user) is marked when its password is right, and a task the worker runs UNFINISHED_AFTER later
tells the owner if the mark is still there. A finished sign-in clears the mark its own
password set (the browser's session keeps it), never one someone else left.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from clinicportal.accounts.models import LoginFailure, PortalAccount, User
from clinicportal.accounts.passwords import username_key
from clinicportal.accounts.services.common import USERNAME_MAX
from clinicportal.accounts.services.notices import (
    SignInAttempt,
    sign_in_attempt_notify,
    staff_sign_in_notify,
)

# How long a sign-in may wait for its code before its owner is told it was not finished.
UNFINISHED_AFTER = timedelta(minutes=10)
# How soon after a browser's password the same browser's may take its mark: a double click.
TWIN_POST_WITHIN = timedelta(seconds=10)
# The browser of a mark when two gave the password while it waited: no one sign-in's to clear.
SHARED = "*"
DOORS: dict[str, type[User] | type[PortalAccount]] = {
    LoginFailure.Door.PORTAL: PortalAccount,
    LoginFailure.Door.OFFICE: User,
}


def _door(subject: User | PortalAccount) -> LoginFailure.Door:
    return (
        LoginFailure.Door.PORTAL if isinstance(subject, PortalAccount) else LoginFailure.Door.OFFICE
    )


def sign_in_unfinished_watch(subject: User | PortalAccount, *, browser: str) -> datetime | None:
    """Note that ``subject`` gave the right password and owes its code. If no sign-in and no
    code (a wrong one's email went already) follow within UNFINISHED_AFTER, its owner is told:
    someone who stops at the code, or tries passwords from a list, may have theirs.

    A mark already waiting is kept, not moved: the password given again cannot put the email
    off, nor queue more than one check each UNFINISHED_AFTER. One left over (a check lost with
    its queue) is replaced after twice that. A mark another browser set becomes SHARED: then
    no sign-in clears it, so the owner finishing theirs cannot hide another's left at the code
    (nor the other way round), and the email says the password came from more than one.

    Returns the mark when this call set it, or the same ``browser`` did a moment ago (the form
    posted twice), for the sign-in to clear once finished (``sign_in_unfinished_clear``); None
    when it kept another browser's.
    """
    from clinicportal.accounts.tasks import sign_in_unfinished_check

    now = timezone.now()
    accounts = DOORS[_door(subject)].objects.filter(pk=subject.pk)
    with transaction.atomic():  # the row locked: set, take or share the mark, one at a time
        row = accounts.select_for_update().values_list(
            "second_step_awaited_at", "second_step_awaited_by"
        )
        marked_at, marked_by = row.first() or (None, "")
        if marked_at is None or marked_at < now - 2 * UNFINISHED_AFTER:
            accounts.update(second_step_awaited_at=now, second_step_awaited_by=browser)
            sign_in_unfinished_check.using(run_after=now + UNFINISHED_AFTER).enqueue(
                subject.pk, now.isoformat(), _door(subject).value
            )
            return now
        # Only a mark of a moment ago is the same browser's to take: the form posted twice. A
        # shared computer keeps its CSRF cookie from one person to the next, and the next must
        # not clear the first's mark.
        if browser and marked_by == browser and marked_at >= now - TWIN_POST_WITHIN:
            return marked_at
        if marked_by != browser:
            accounts.update(second_step_awaited_by=SHARED)
        return None


def sign_in_unfinished_clear(subject: User | PortalAccount, awaited_at: datetime | None) -> None:
    """Clear the mark ``subject``'s finished sign-in set (``awaited_at``), if it is still there
    and not SHARED: nothing for the check to tell. A mark someone else left stays."""
    if awaited_at is not None:
        type(subject).objects.filter(pk=subject.pk, second_step_awaited_at=awaited_at).exclude(
            second_step_awaited_by=SHARED
        ).update(second_step_awaited_at=None, second_step_awaited_by="")


def sign_in_unfinished_notify(
    *, account_id: int, awaited_at: datetime, door: str = LoginFailure.Door.PORTAL
) -> bool:
    """Tell the owner of a sign-in at ``door`` that stopped at the code given ``awaited_at``;
    return whether they were told. Run by the worker, UNFINISHED_AFTER later.

    Nobody is told when it was finished (the sign-in clears the mark), or when a code
    followed (a wrong one, whose own email went, or one refused while sign-in was paused)
    unless the password came from more than one browser. The
    conditional update claims the mark, so a check run twice tells once.
    """
    model = DOORS[door]
    with transaction.atomic():
        marked = model.objects.select_for_update().filter(
            pk=account_id, is_active=True, second_step_awaited_at=awaited_at
        )
        browser = marked.values_list("second_step_awaited_by", flat=True).first()
        if browser is None or not marked.update(
            second_step_awaited_at=None, second_step_awaited_by=""
        ):
            return False
        if model is PortalAccount:
            account = PortalAccount.objects.select_related("practice").get(pk=account_id)
            subject: User | PortalAccount = account
            practice = account.practice
        else:
            subject, practice = User.objects.get(pk=account_id), None
        codes = LoginFailure.objects.filter(
            door=door,
            practice=practice,
            username_key=username_key(subject.username)[:USERNAME_MAX],
            stage__in=[LoginFailure.Stage.WRONG_CODE, LoginFailure.Stage.CODE_REFUSED],
            at__gte=awaited_at,
        )
        # A code that came was told by its own email; but with two browsers it may have been
        # the owner's own, and the other's password still unanswered.
        if browser != SHARED and codes.exists():
            return False
        attempt = SignInAttempt.UNFINISHED_SHARED if browser == SHARED else SignInAttempt.UNFINISHED
        if isinstance(subject, PortalAccount):
            sign_in_attempt_notify(account=subject, attempt=attempt, when=awaited_at)
        else:
            staff_sign_in_notify(user=subject, event=attempt, when=awaited_at)
        return True
