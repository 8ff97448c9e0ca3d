from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from clinicportal.demo.data import DEMO_ADMIN_TOTP_SECRET, DEMO_API_KEY, DemoRefused, demo_load


class Command(BaseCommand):
    help = "Create (or refresh) the demo practice Clearview Eye Care with its logins and patients."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            practice, logins, patients = demo_load()
        except DemoRefused as refused:
            raise CommandError(refused.message) from None
        self.stdout.write(f"Demo practice: {practice.name} ({patients} patients)")
        for login in logins:
            self.stdout.write(
                f"  {login.door} {login.role:<8} username {login.username:<16} "
                f"password {login.password}"
            )
        self.stdout.write(
            f"  The admin signs in with a two-step code too: add the key {DEMO_ADMIN_TOTP_SECRET} "
            "to an authenticator app, or run `.venv/bin/clinicportal demo_code`."
        )
        self.stdout.write(
            f"  Print to portal with the demo API key {DEMO_API_KEY} (see README.md)."
        )
