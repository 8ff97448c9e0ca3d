from __future__ import annotations

import secrets
from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicportal.accounts.passwords import TEMPORARY_PASSWORD_LIFETIME
from clinicportal.practices.services import practice_create


class Command(BaseCommand):
    help = (
        "Create a practice with its first admin, and print the admin's temporary password "
        "and when it expires."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--name", required=True, help="The practice's name, e.g. 'Clearview Eye Care'."
        )
        parser.add_argument("--slug", required=True, help="Its portal address: /p/<slug>/.")
        parser.add_argument("--address", default="")
        parser.add_argument("--phone", default="")
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", required=True, help="The admin's name as staff see it.")

    def handle(self, *args: Any, **options: Any) -> None:
        password = secrets.token_urlsafe(18)
        try:
            practice, admin = practice_create(
                name=options["name"],
                slug=options["slug"],
                address=options["address"],
                phone=options["phone"],
                admin_username=options["admin_username"],
                admin_email=options["admin_email"],
                admin_name=options["admin_name"],
                admin_password=password,
                admin_password_is_temporary=True,
            )
        except ValidationError as exc:
            messages = (
                "; ".join(
                    f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()
                )
                if hasattr(exc, "error_dict")
                else " ".join(exc.messages)
            )
            raise CommandError(f"The practice was not created. {messages}") from None
        self.stdout.write(f"Created {practice.name}; its portal is at {practice.portal_path()}")
        self.stdout.write(f"Admin username: {admin.user.username}")
        self.stdout.write(
            f"Admin temporary password (shown once; the admin sets up two-step sign-in and "
            f"chooses their own password at first sign-in): {password}"
        )
        expires = admin.user.temporary_password_expires_at
        assert expires is not None  # a temporary password always has its end
        days = TEMPORARY_PASSWORD_LIFETIME.days
        self.stdout.write(
            f"It expires in {days} days, at {expires.astimezone(UTC):%Y-%m-%d %H:%M} UTC; after "
            "that it no longer signs in."
        )
