"""Keep the name of an event's target (a record's description) as it was at the time.

On SQLite, adding a NOT NULL column rebuilds the table, and the rebuild drops the trigger that
refuses UPDATE (migration 0002); it is put back here. PostgreSQL adds the column in place and
keeps its trigger.
"""

from typing import Any

from django.db import migrations, models

SQLITE_UP = """
CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
"""


def restore_sqlite_trigger(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0012_new_actions")]

    operations = [
        # Undoing the AddField rebuilds the table again: put the trigger back after it too.
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_trigger),
        migrations.AddField(
            model_name="auditevent",
            name="object_label",
            field=models.CharField(blank=True, default="", max_length=300),
        ),
        migrations.RunPython(restore_sqlite_trigger, migrations.RunPython.noop),
    ]
