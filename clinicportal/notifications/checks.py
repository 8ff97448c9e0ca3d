"""Start-up checks: background jobs go in this site's own database, with the writes they follow.

Jobs are enqueued inside the transaction of the write that causes them (a password reset's job
with its throttle row), and the worker that sends the outbox is django_tasks_db's worker. Both
hold only if TASKS["default"] is django_tasks_db's DatabaseBackend and its rows live in the
"default" database: another backend would run jobs in the request or lose them, and another
database would commit a job apart from its write. django_tasks_db has no option naming a
database; its rows go where the database routers send its DBTaskResult model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, router
from django.utils.module_loading import import_string
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"


def tasks_backend_check(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    backend_path = getattr(settings, "TASKS", {}).get("default", {}).get("BACKEND", "")
    try:
        backend = import_string(backend_path)
    except ImportError:  # Django's own check reports a backend it cannot import
        backend = None
    if not (isinstance(backend, type) and issubclass(backend, DatabaseBackend)):
        return [
            checks.Error(
                f'TASKS["default"]["BACKEND"] is {backend_path or "not set"!r}, not '
                "django_tasks_db's database backend: jobs would not be taken in the transaction "
                "that queues them.",
                hint=f'Set TASKS["default"]["BACKEND"] = "{DATABASE_BACKEND}".',
                id="notifications.E001",
            )
        ]
    used = {router.db_for_write(DBTaskResult), router.db_for_read(DBTaskResult)}
    if used != {DEFAULT_DB_ALIAS}:
        return [
            checks.Error(
                f"The database routers put background jobs in {sorted(used)}, not in "
                f'"{DEFAULT_DB_ALIAS}": a job would not commit with the write that queued it.',
                hint="Route django_tasks_db's DBTaskResult to the default database.",
                id="notifications.E002",
            )
        ]
    return []
