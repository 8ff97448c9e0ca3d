"""SMTP passwords and authenticator keys are encrypted at rest, with keys outside the database."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from clinicportal.accounts.models import TwoFactorDevice
from clinicportal.notifications.models import EmailSettings


def stored(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


@pytest.fixture
def smtp(practice_x) -> EmailSettings:
    return EmailSettings.objects.create(
        practice=practice_x, host="smtp.example.org", password="hunter2-smtp", from_address="a@b.c"
    )


def test_secrets_are_unreadable_in_the_database_and_plain_in_the_app(smtp, alice):
    device = TwoFactorDevice.objects.create(user=alice.user, secret="JBSWY3DPEHPK3PXP")
    raw_password = stored("notifications_emailsettings", "password", smtp.pk)
    raw_secret = stored("accounts_twofactordevice", "secret", device.pk)
    assert raw_password.startswith("fernet:") and "hunter2" not in raw_password
    assert raw_secret.startswith("fernet:") and "JBSWY3DP" not in raw_secret
    assert EmailSettings.objects.get().password == "hunter2-smtp"
    assert TwoFactorDevice.objects.get().secret == "JBSWY3DPEHPK3PXP"


def test_a_secret_that_looks_encrypted_is_still_encrypted(smtp):
    smtp.password = "fernet:not-really-a-token"
    smtp.save()
    raw = stored("notifications_emailsettings", "password", smtp.pk)
    assert "not-really" not in raw
    assert EmailSettings.objects.get().password == "fernet:not-really-a-token"


def test_an_old_key_still_reads_after_a_new_one_goes_first(smtp, settings):
    old = settings.CLINICPORTAL_SECRETS_KEYS
    settings.CLINICPORTAL_SECRETS_KEYS = [Fernet.generate_key().decode(), *old]
    assert EmailSettings.objects.get().password == "hunter2-smtp"
    settings.CLINICPORTAL_SECRETS_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="does not hold the key"):
        EmailSettings.objects.get()


def test_the_migration_encrypts_rows_written_in_the_clear(smtp):
    from importlib import import_module

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications_emailsettings SET password = %s WHERE id = %s",
            ["written-before", smtp.pk],
        )
    assert EmailSettings.objects.get().password == "written-before"  # still readable
    migration = import_module("clinicportal.notifications.migrations.0002_encrypt_secrets")
    step = migration.Migration.operations[-1]
    step.code(apps, None)
    assert stored("notifications_emailsettings", "password", smtp.pk).startswith("fernet:")
    assert EmailSettings.objects.get().password == "written-before"
    step.reverse_code(apps, None)
    assert stored("notifications_emailsettings", "password", smtp.pk) == "written-before"


def test_saving_each_row_again_moves_it_to_the_new_key(smtp, alice, settings):
    """The rotation step of docs/security.md: after it, the old key can go."""
    TwoFactorDevice.objects.create(user=alice.user, secret="JBSWY3DPEHPK3PXP")
    new = Fernet.generate_key().decode()
    settings.CLINICPORTAL_SECRETS_KEYS = [new, *settings.CLINICPORTAL_SECRETS_KEYS]
    for model, field in ((TwoFactorDevice, "secret"), (EmailSettings, "password")):
        for row in model.objects.exclude(**{field: ""}):
            row.save(update_fields=[field])
    settings.CLINICPORTAL_SECRETS_KEYS = [new]
    assert EmailSettings.objects.get().password == "hunter2-smtp"
    assert TwoFactorDevice.objects.get().secret == "JBSWY3DPEHPK3PXP"
