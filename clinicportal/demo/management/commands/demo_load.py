from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from clinicportal.demo.data import DEMO_API_KEY, DemoRefused, demo_load


class Command(BaseCommand):
    help = "Create (or refresh) the demo practice Clearview Eye Care with its logins and patients."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            # Its own passwords, chosen here: nothing to ask the breached-password service.
            with override_settings(CLINICPORTAL_BREACHED_PASSWORDS_URL=""):
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
            "  Office logins also need a two-step code: run "
            "`.venv/bin/clinicportal demo_code <username>` for the current one, or add the "
            "login's key to an authenticator app:"
        )
        for login in logins:
            if login.totp_secret:
                self.stdout.write(f"    {login.username:<16} key {login.totp_secret}")
        self.stdout.write(
            f"  Print to portal with the demo API key {DEMO_API_KEY} (see README.md)."
        )
