"""PostgreSQL plans a page's repeated queries once a connection (prepared statements)."""

from __future__ import annotations

import pytest
from django.db import connection

from clinicportal.practices.models import Practice
from config.env import env_database

URL = "postgres://someone@db.internal:5432/clinicportal"


def test_postgresql_prepares_repeated_queries_unless_told_not_to(monkeypatch, tmp_path):
    monkeypatch.delenv("CLINICPORTAL_DB_PREPARED", raising=False)
    monkeypatch.setenv("DATABASE_URL", URL)
    options = env_database("DATABASE_URL", tmp_path / "unused.sqlite3")["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5

    monkeypatch.setenv("CLINICPORTAL_DB_PREPARED", "false")  # behind a pooler that cannot
    options = env_database("DATABASE_URL", tmp_path / "unused.sqlite3").get("OPTIONS", {})
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


def test_sqlite_is_left_as_it_is(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    options = env_database("DATABASE_URL", tmp_path / "site.sqlite3")["OPTIONS"]
    assert "server_side_binding" not in options


@pytest.mark.django_db
def test_a_query_asked_again_and_again_is_planned_once(practice_x):
    practice = practice_x
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            return int(cursor.fetchone()[0])

    before = prepared()
    for _ in range(7):
        assert Practice.objects.filter(slug=practice.slug).get().pk == practice.pk
    assert prepared() == before + 1
