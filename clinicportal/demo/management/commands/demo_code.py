from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicportal.demo.data import DEMO_LOGINS, demo_staff_code


class Command(BaseCommand):
    help = (
        "Print a demo office login's current two-step sign-in code (demo practice only). "
        "Without a username, print each demo office login's."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "username",
            nargs="?",
            choices=[login.username for login in DEMO_LOGINS],
            help="The demo office login, e.g. clearview.staff.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        usernames = [options["username"]] if options["username"] else None
        for username in usernames or [login.username for login in DEMO_LOGINS]:
            code = demo_staff_code(username)
            if code is None:
                raise CommandError(f"{username} does not use its demo key; run demo_load first.")
            self.stdout.write(code if usernames else f"{username:<16} {code}")
