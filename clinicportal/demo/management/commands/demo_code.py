from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from clinicportal.demo.data import demo_admin_code


class Command(BaseCommand):
    help = "Print the demo admin's current two-step sign-in code (demo practice only)."

    def handle(self, *args: Any, **options: Any) -> None:
        code = demo_admin_code()
        if code is None:
            raise CommandError("The demo admin does not use the demo key; run demo_load first.")
        self.stdout.write(code)
