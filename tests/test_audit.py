from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from clinicportal.audit.models import AuditEvent


def test_audit_events_cannot_be_changed_through_the_orm(patient_a):
    event = AuditEvent.objects.earliest("pk")
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().update(action="x")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()


def test_the_database_refuses_to_change_audit_events(patient_a):
    event = AuditEvent.objects.earliest("pk")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'tampered' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == event.action
