"""Retire the recovery codes made before codes had 120 bits.

They had about 60 bits and are kept as a plain SHA-256: from a copy of the database, guessing
them is within reach, and one can stay unused for years. Deleting them removes those hashes at
once. Two-step sign-in stays on; the account page offers to make new codes (password and a code
from the app), and says when none are left.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def retire(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("accounts", "RecoveryCode").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0013_email_sent_again")]

    operations = [migrations.RunPython(retire, migrations.RunPython.noop)]
