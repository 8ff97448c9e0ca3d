"""Start-up refuses a TASKS setting that would take jobs out of the writes' own database."""

from __future__ import annotations

import pytest
from django.core import checks
from django.core.checks import run_checks
from django.test import override_settings

pytestmark = pytest.mark.django_db  # the model checks that run_checks runs ask the database


class JobsElsewhere:
    def db_for_read(self, model, **hints):
        return "jobs" if model._meta.app_label == "django_tasks_database" else None

    def db_for_write(self, model, **hints):
        return self.db_for_read(model, **hints)


def notifications_errors() -> list[checks.CheckMessage]:
    return [m for m in run_checks() if (m.id or "").startswith("notifications.")]


def test_the_settings_as_shipped_pass():
    assert notifications_errors() == []


@pytest.mark.parametrize(
    "backend",
    [
        "django_tasks_db.DatabaseBackend",
        "django_tasks_db.backend.DatabaseBackend",
    ],
)
def test_django_tasks_db_s_database_backend_passes(backend):
    with override_settings(TASKS={"default": {"BACKEND": backend, "QUEUES": ["default"]}}):
        assert notifications_errors() == []


@pytest.mark.parametrize(
    "tasks",
    [
        {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}},
        {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}},
        {},
    ],
)
def test_another_tasks_backend_stops_start_up(tasks):
    with override_settings(TASKS=tasks):
        (error,) = notifications_errors()
    assert error.id == "notifications.E001"
    assert error.level == checks.ERROR


def test_jobs_routed_to_another_database_stop_start_up():
    with override_settings(DATABASE_ROUTERS=[JobsElsewhere()]):
        (error,) = notifications_errors()
    assert error.id == "notifications.E002"
    assert error.level == checks.ERROR
    assert "['jobs']" in error.msg
