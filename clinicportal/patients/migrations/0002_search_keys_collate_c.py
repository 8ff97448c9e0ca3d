"""Search keys sort and match byte-wise on PostgreSQL.

The keys hold folded ASCII-like text, so the "C" collation orders them correctly, and under it a
plain B-tree index serves both LIKE 'abc%' and ORDER BY, whatever collation the database was
created with. SQLite compares with BINARY already.
"""

from typing import Any

from django.db import migrations

COLUMNS = {"last_name_key": 100, "first_name_key": 100, "phone_digits": 20}


def to_c(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column, length in COLUMNS.items():
        schema_editor.execute(
            f'ALTER TABLE patients_patient ALTER COLUMN {column} TYPE varchar({length}) COLLATE "C"'
        )


def to_default(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column, length in COLUMNS.items():
        schema_editor.execute(
            f"ALTER TABLE patients_patient ALTER COLUMN {column} TYPE varchar({length}) "
            'COLLATE "default"'
        )


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]
    operations = [migrations.RunPython(to_c, to_default)]
