from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from clinicportal.content.scrub import content_sweep
from clinicportal.core.sweep import cleanups


class Command(BaseCommand):
    help = (
        "Delete stored content nothing refers to any more, uploads left unfinished, old "
        "sign-in failures, sent-form tokens and ended sessions, queue again emails a stopped "
        "worker left sending, then report content that is missing or does not match its hash "
        "(exit non-zero if any)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        swept = content_sweep()
        for name in swept.files_deleted:
            self.stdout.write(f"DELETED FILE {name}")
        self.stdout.write(
            f"Deleted {swept.rows_deleted} unused stored files, {len(swept.files_deleted)} "
            f"files with no record and {swept.temp_files_deleted} unfinished uploads older than "
            "an hour."
        )
        for cleanup in cleanups():  # what the other apps registered (see core/sweep.py)
            self.stdout.write(cleanup.report.format(count=cleanup.run()))
        from django.core.management import call_command

        call_command("scrub", stdout=self.stdout)
