"""Birth-date and phone indexes that carry the name keys and id: sorting reads only the index.

The new indexes are made before the old ones go, so searches always have one.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_search_keys_collate_c"),
        ("practices", "0004_practice_logs_staff_as"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(
                fields=["practice", "date_of_birth", "last_name_key", "first_name_key", "id"],
                name="patient_dob_keys",
            ),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(
                fields=["practice", "phone_digits", "last_name_key", "first_name_key", "id"],
                name="patient_phone_keys",
            ),
        ),
        migrations.RemoveIndex(model_name="patient", name="patient_dob"),
        migrations.RemoveIndex(model_name="patient", name="patient_phone"),
    ]
