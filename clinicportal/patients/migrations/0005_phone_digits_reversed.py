"""A phone's digits backwards, indexed, so that a search finds a number by its end too.

Filled for the patients already there in one statement on PostgreSQL, in batches on SQLite
(which has no reverse()); byte-wise ("C") like the other search keys (see 0002).
"""

from typing import Any

from django.db import migrations, models

BATCH = 2000


def fill(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE patients_patient ALTER COLUMN phone_digits_reversed "
            'TYPE varchar(20) COLLATE "C"'
        )
        schema_editor.execute(
            "UPDATE patients_patient SET phone_digits_reversed = reverse(phone_digits) "
            "WHERE phone_digits <> ''"
        )
        return
    Patient = apps.get_model("patients", "Patient")
    phoned = Patient.objects.exclude(phone_digits="").order_by("pk")
    last = 0
    while batch := list(phoned.filter(pk__gt=last).only("pk", "phone_digits")[:BATCH]):
        for patient in batch:
            patient.phone_digits_reversed = patient.phone_digits[::-1]
        Patient.objects.bulk_update(batch, ["phone_digits_reversed"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("patients", "0004_chart_file_from_the_portal")]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="phone_digits_reversed",
            field=models.CharField(blank=True, default="", editable=False, max_length=20),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(
                fields=[
                    "practice",
                    "phone_digits_reversed",
                    "last_name_key",
                    "first_name_key",
                    "id",
                ],
                name="patient_phone_end_keys",
            ),
        ),
    ]
