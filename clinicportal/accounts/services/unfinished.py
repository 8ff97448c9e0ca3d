"""A sign-in left at the code: the right password, then no code and no sign-in (ASVS 6.3.5).

A program trying passwords from a list stops at the code once it finds one; its owner should
hear of it. The account is marked when its password is right, and a task the worker runs
UNFINISHED_AFTER later tells the owner if the mark is still there.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinicportal.accounts.models import LoginFailure, PortalAccount
from clinicportal.accounts.passwords import username_key
from clinicportal.accounts.services.common import USERNAME_MAX
from clinicportal.accounts.services.notices import SignInAttempt, sign_in_attempt_notify

# How long a portal sign-in may wait for its code before its owner is told it was not finished.
UNFINISHED_AFTER = timedelta(minutes=10)


def portal_second_step_await(account: PortalAccount) -> datetime | None:
    """Note that ``account`` gave the right password and owes its code. If no sign-in and no
    code (a wrong one's email went already) follow within UNFINISHED_AFTER, its owner is told:
    someone who stops at the code, or tries passwords from a list, may have theirs.

    A mark already waiting is kept, not moved: the password given again cannot put the email
    off, nor queue more than one check each UNFINISHED_AFTER. One left over (a check lost with
    its queue) is replaced after twice that. Returns the mark when this call set it, for the
    sign-in to clear once finished (``sign_in_complete``); None when it kept another's.
    """
    from clinicportal.accounts.tasks import sign_in_unfinished_check

    now = timezone.now()
    waiting = Q(second_step_awaited_at__isnull=True) | Q(
        second_step_awaited_at__lt=now - 2 * UNFINISHED_AFTER
    )
    with transaction.atomic():
        if PortalAccount.objects.filter(waiting, pk=account.pk).update(second_step_awaited_at=now):
            sign_in_unfinished_check.using(run_after=now + UNFINISHED_AFTER).enqueue(
                account.pk, now.isoformat()
            )
            return now
    return None


def sign_in_unfinished_notify(*, account_id: int, awaited_at: datetime) -> bool:
    """Tell the owner of a sign-in that stopped at the code given ``awaited_at``; return
    whether they were told. Run by the worker, UNFINISHED_AFTER later.

    Nobody is told when it was finished (the sign-in clears the mark), or when a code
    followed: a wrong one, whose own email went, or one refused while sign-in was paused. The
    conditional update claims the mark, so a check run twice tells once.
    """
    with transaction.atomic():
        claimed = PortalAccount.objects.filter(
            pk=account_id, is_active=True, second_step_awaited_at=awaited_at
        ).update(second_step_awaited_at=None)
        if not claimed:
            return False
        account = PortalAccount.objects.select_related("practice").get(pk=account_id)
        codes = LoginFailure.objects.filter(
            door=LoginFailure.Door.PORTAL,
            practice=account.practice,
            username_key=username_key(account.username)[:USERNAME_MAX],
            stage__in=[LoginFailure.Stage.WRONG_CODE, LoginFailure.Stage.CODE_REFUSED],
            at__gte=awaited_at,
        )
        if codes.exists():
            return False
        sign_in_attempt_notify(account=account, attempt=SignInAttempt.UNFINISHED, when=awaited_at)
        return True
