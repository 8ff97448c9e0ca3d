"""The ``clinicportal`` console script: Django's management commands for this project."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Run a management command (``clinicportal migrate``, ``clinicportal demo_load`` ...).

    ``clinicportal print-to-portal`` is the API client instead: it needs no settings or database.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["print-to-portal"]:
        from clinicportal.api.client import main as print_to_portal

        return print_to_portal(args[1:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        # Load settings here so that a malformed variable stops start-up with its name,
        # instead of Django's management utility hiding it behind "Unknown command".
        settings.INSTALLED_APPS  # noqa: B018
    except ImproperlyConfigured as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    execute_from_command_line(["clinicportal", *args])
    return 0
