"""Background jobs of the accounts app: each calls a service."""

from __future__ import annotations

from datetime import datetime

from django.tasks import task

from clinicportal.accounts.services.links import portal_password_reset_send
from clinicportal.accounts.services.unfinished import sign_in_unfinished_notify
from clinicportal.practices.models import Practice


@task()
def send_password_reset(practice_id: int, identifier: str, ip: str | None, user_agent: str) -> bool:
    """Look the account up and queue its reset email; return whether one was queued."""
    practice = Practice.objects.get(pk=practice_id)
    email = portal_password_reset_send(
        practice=practice, identifier=identifier, ip=ip, user_agent=user_agent
    )
    return email is not None


@task()
def sign_in_unfinished_check(account_id: int, awaited_at: str, door: str = "portal") -> bool:
    """Tell an account's owner of a sign-in that stopped at the code, if it still has.
    ``account_id`` is a portal account's, or at the office's ``door`` a staff user's."""
    return sign_in_unfinished_notify(
        account_id=account_id, awaited_at=datetime.fromisoformat(awaited_at), door=door
    )
