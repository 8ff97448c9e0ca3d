from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from clinicportal.content.scrub import content_scrub


class Command(BaseCommand):
    help = (
        "Check every stored file against its SHA-256; exit non-zero if any is missing or damaged."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = content_scrub()
        for line in report.damaged:
            self.stdout.write(f"DAMAGED {line}")
        for name in report.unreferenced:
            self.stdout.write(f"UNREFERENCED {name}")
        self.stdout.write(
            f"Checked {report.checked} stored files: {len(report.damaged)} damaged, "
            f"{len(report.unreferenced)} not referenced."
        )
        if not report.ok:
            raise CommandError("Some stored content is missing or damaged.")
