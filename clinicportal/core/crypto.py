"""Secrets the application must read back (SMTP passwords, authenticator keys), encrypted at rest.

A database dump alone then gives nothing away: the keys live outside it, in
CLINICPORTAL_SECRETS_KEYS (see config/env.py). Values are Fernet tokens (AES-128-CBC with an
HMAC-SHA256), marked with a prefix so that rows written before encryption can still be read
until a migration rewrites them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.fernet import Fernet as _Fernet
from cryptography.fernet import InvalidToken, MultiFernet
from django.apps.registry import Apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.migrations import RunPython

MARK = "fernet:"


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.CLINICPORTAL_SECRETS_KEYS))


def encrypt(text: str) -> str:
    return MARK + _current().encrypt(text.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(MARK):
        return stored  # written before encryption; the migration rewrites it
    try:
        return _current().decrypt(stored[len(MARK) :].encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: CLINICPORTAL_SECRETS_KEYS does not hold the "
            "key it was written with."
        ) from None


class EncryptedTextField(models.TextField):
    """A text field stored encrypted; reads give the plain text. Not for lookups or ordering."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))  # instances hold plain text: from_db_value decrypted it


def encrypt_existing(app_label: str, model_name: str, field: str) -> RunPython:
    """A migration step that encrypts a field's rows written in the clear (and can undo it)."""

    def forward(apps: Apps, schema_editor: Any) -> None:
        for row in apps.get_model(app_label, model_name).objects.all():
            row.save(update_fields=[field])  # the field encrypts what it saves

    def backward(apps: Apps, schema_editor: Any) -> None:
        model = apps.get_model(app_label, model_name)
        for row in model.objects.all():
            plain = models.Value(decrypt(getattr(row, field)), output_field=models.TextField())
            model.objects.filter(pk=row.pk).update(**{field: plain})

    return RunPython(forward, backward)
