"""Rows written in bulk for the benchmarks: PostgreSQL's COPY, plain INSERTs on SQLite.

Rows are written with their ids (taken from Ids), so that rows can point at each other before
they are written; reset_sequences then moves each table's next id past them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any


class Writer:
    """Rows into one model's table: COPY on PostgreSQL, INSERT in batches elsewhere.

    ``columns`` (separated by spaces) must name every concrete field (by attname), so that a
    field added to the model later stops the benchmark with a clear message.
    """

    def __init__(self, model: Any, columns: str) -> None:
        from django.db import connection

        self.model = model
        names = columns.split()
        known = {f.attname for f in model._meta.concrete_fields}
        if set(names) != known:
            raise RuntimeError(
                f"The benchmark writes {model.__name__} with {sorted(names)}; "
                f"the model now has {sorted(known)}: update the benchmark."
            )
        self.fields = [model._meta.get_field(name) for name in names]
        quote = connection.ops.quote_name
        self.table = quote(model._meta.db_table)
        self.columns = ", ".join(quote(f.column) for f in self.fields)
        self.written = 0

    def write(self, rows: Iterable[tuple[Any, ...]]) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                from django.db.models import JSONField

                sql = f"COPY {self.table} ({self.columns}) FROM STDIN"
                # JSON values go through the field, which wraps them for jsonb.
                json = [i for i, f in enumerate(self.fields) if isinstance(f, JSONField)]
                with cursor.cursor.copy(sql) as copy:
                    for row in rows:
                        if json:
                            row = tuple(
                                self.fields[i].get_db_prep_save(v, connection) if i in json else v
                                for i, v in enumerate(row)
                            )
                        copy.write_row(row)
                        self.written += 1
                return
            marks = ", ".join(["%s"] * len(self.fields))
            sql = f"INSERT INTO {self.table} ({self.columns}) VALUES ({marks})"  # noqa: S608
            batch: list[list[Any]] = []
            for row in rows:
                batch.append(
                    [
                        f.get_db_prep_save(v, connection)
                        for f, v in zip(self.fields, row, strict=True)
                    ]
                )
                self.written += 1
                if len(batch) == 1000:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)


class Ids:
    """The next free primary key of each table (the rows are written with their ids)."""

    def __init__(self, *models: Any) -> None:
        from django.db.models import Max

        self.next = {m: (m.objects.aggregate(top=Max("id"))["top"] or 0) + 1 for m in models}

    def take(self, model: Any) -> int:
        value: int = self.next[model]
        self.next[model] = value + 1
        return value


def uid(rng: random.Random) -> str:
    """A random UUID as 32 hex digits (both databases accept this form)."""
    return f"{rng.getrandbits(128):032x}"


def unchecked_foreign_keys() -> bool:
    """On PostgreSQL, skip the foreign key checks of this transaction's rows, if allowed.

    A million messages make millions of checks at commit, nearly a minute, for rows whose
    references are right by construction (and checked on SQLite, by the --small run's test).
    Needs a superuser (session_replication_role); return whether the checks still run.
    """
    from django.db import DatabaseError, connection, transaction

    if connection.vendor != "postgresql":
        return True
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        return True
    return False


@contextmanager
def step(name: str) -> Iterator[None]:
    """Print how long the block took."""
    started = time.perf_counter()
    yield
    print(f"  {name}: {time.perf_counter() - started:.1f} s", flush=True)


def reset_sequences(models: Sequence[Any]) -> None:
    """Have the tables' next ids follow the ids written here."""
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(sql)
