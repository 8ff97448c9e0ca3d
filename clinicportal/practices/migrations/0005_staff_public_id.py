# Staff members get a public id: Admin → Staff names them by it in its addresses.

import uuid

from django.db import migrations, models


def give_public_ids(apps, schema_editor):
    StaffMember = apps.get_model("practices", "StaffMember")
    for member in StaffMember.objects.filter(public_id__isnull=True).only("pk"):
        member.public_id = uuid.uuid4()
        member.save(update_fields=["public_id"])


class Migration(migrations.Migration):

    dependencies = [
        ("practices", "0004_practice_logs_staff_as"),
    ]

    operations = [
        migrations.AddField(
            model_name="staffmember",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="staffmember",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
