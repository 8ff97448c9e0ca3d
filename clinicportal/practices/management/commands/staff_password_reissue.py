from __future__ import annotations

import secrets
from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicportal.accounts.passwords import TEMPORARY_PASSWORD_LIFETIME
from clinicportal.practices.models import StaffMember
from clinicportal.practices.services import staff_password_reissue


class Command(BaseCommand):
    help = (
        "Give a staff member a new temporary password (for one whose temporary password "
        "expired, or who forgot theirs), print it and when it expires. Their office sessions end."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The staff member's office username.")

    def handle(self, *args: Any, **options: Any) -> None:
        member = (
            StaffMember.objects.select_related("user", "practice")
            .filter(user__username=options["username"])
            .first()
        )
        if member is None:
            raise CommandError(f"No staff member has the username {options['username']!r}.")
        password = secrets.token_urlsafe(18)
        try:
            staff_password_reissue(member=member, password=password)
        except ValidationError as exc:
            raise CommandError(f"The password was not changed. {' '.join(exc.messages)}") from None
        expires = member.user.temporary_password_expires_at
        assert expires is not None  # a temporary password always has its end
        self.stdout.write(
            f"New temporary password for {member.user.username} at {member.practice.name} "
            f"(shown once; they choose their own at the next sign-in): {password}"
        )
        self.stdout.write(
            f"It expires in {TEMPORARY_PASSWORD_LIFETIME.days} days, at "
            f"{expires.astimezone(UTC):%Y-%m-%d %H:%M} UTC."
        )
