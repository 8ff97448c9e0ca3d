from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinicportal.demo.data import patients_generate
from clinicportal.practices.models import Practice


class Command(BaseCommand):
    help = "Add N generated patients, each with a chart file, to a practice (for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int, help="How many patients to add.")
        parser.add_argument("--practice", default="clearview", help="The practice's slug.")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["count"] < 1:
            raise CommandError("COUNT must be at least 1.")
        practice = Practice.objects.filter(slug=options["practice"]).first()
        if practice is None:
            raise CommandError(f"No practice has the slug {options['practice']!r}.")
        started = time.perf_counter()
        made = patients_generate(practice=practice, count=options["count"], seed=options["seed"])
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Added {made} patients to {practice.name} in {elapsed:.1f} s.")
