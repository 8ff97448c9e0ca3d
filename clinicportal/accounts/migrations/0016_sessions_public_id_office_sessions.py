# Sessions get a public id (pages name a session by it, never by its key), and the office
# gets server-side session rows like the portal's.

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def give_public_ids(apps, schema_editor):
    PortalSession = apps.get_model("accounts", "PortalSession")
    for session in PortalSession.objects.filter(public_id__isnull=True).only("pk"):
        session.public_id = uuid.uuid4()
        session.save(update_fields=["public_id"])


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0015_staff_temporary_passwords'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='portalsession',
            name='public_id',
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='portalsession',
            name='public_id',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.CreateModel(
            name='OfficeSession',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('session_key', models.CharField(max_length=64, unique=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('last_seen_at', models.DateTimeField()),
                ('ip', models.GenericIPAddressField(blank=True, null=True)),
                ('user_agent', models.CharField(blank=True, max_length=300)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='office_sessions', to=settings.AUTH_USER_MODEL)),
            ],
        ),
    ]
