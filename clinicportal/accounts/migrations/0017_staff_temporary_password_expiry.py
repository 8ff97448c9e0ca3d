"""Staff temporary passwords expire, like the portal's.

A staff password that is already temporary gets the full lifetime from now: its owner could not
have known it would expire, and none stays valid for good.
"""

import datetime

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.utils import timezone

# TEMPORARY_PASSWORD_LIFETIME as of this migration (a migration does not follow later changes).
LIFETIME = datetime.timedelta(days=7)


def expire_later(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("accounts", "User").objects.filter(
        password_is_temporary=True, temporary_password_expires_at=None
    ).update(temporary_password_expires_at=timezone.now() + LIFETIME)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0016_sessions_public_id_office_sessions")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="temporary_password_expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(expire_later, migrations.RunPython.noop),
    ]
