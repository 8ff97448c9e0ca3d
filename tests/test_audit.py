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


def test_staff_failed_sign_ins_and_codes_are_in_their_practices_trail(bob, alice, client):
    from django.test import Client
    from django.urls import reverse

    from tests.conftest import PASSWORD, enrol_authenticator

    client.post(reverse("office:login"), {"username": "bob", "password": "wrong"})
    client.post(reverse("office:login"), {"username": "nobody", "password": "wrong"})
    failed = AuditEvent.objects.get(action=AuditEvent.Action.STAFF_LOGIN_FAILED)
    assert (failed.practice, failed.object_id, failed.actor_name) == (
        bob.practice,
        str(bob.user.pk),
        "bob",
    )
    enrol_authenticator(alice)
    other = Client()
    other.post(reverse("office:login"), {"username": "alice", "password": PASSWORD})
    other.post(reverse("office:login_code"), {"code": "000000"})
    code_failed = AuditEvent.objects.get(action=AuditEvent.Action.STAFF_CODE_FAILED)
    assert (code_failed.practice, code_failed.object_id) == (alice.practice, str(alice.user.pk))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.STAFF_LOGIN_FAILED).count() == 1


def test_new_staff_and_email_settings_changes_are_audited(alice_client, alice, practice_x, dns):
    from django.urls import reverse

    from tests.conftest import make_staff

    first_admin = AuditEvent.objects.get(action=AuditEvent.Action.STAFF_CREATED)
    assert first_admin.actor_user == alice.user
    dora = make_staff(practice_x, "dora", "Dora Desk")
    added = AuditEvent.objects.filter(action=AuditEvent.Action.STAFF_CREATED).latest("id")
    assert added.object_id == str(dora.user.pk)
    assert added.actor_name == "clinicportal (command line)"
    dns["smtp.example.org"] = ["93.184.215.14"]  # a public address: the settings take it
    alice_client.post(
        reverse("office:settings_email"),
        {
            "host": "smtp.example.org",
            "port": 587,
            "security": "starttls",
            "username": "",
            "password": "",
            "from_address": "portal@clinic-x.example",
        },
    )
    changed = AuditEvent.objects.get(action=AuditEvent.Action.EMAIL_SETTINGS_CHANGED)
    assert changed.actor_user == alice.user and changed.practice == practice_x


def test_events_keep_the_name_their_target_had_at_the_time(bob, patient_a):
    from clinicportal.patients.models import ChartFile
    from clinicportal.patients.services import chart_file_open
    from tests.conftest import actor, add_chart_pdf

    chart_file = add_chart_pdf(bob, patient_a, "visit.pdf", description="Visit summary")
    chart_file_open(actor=actor(bob), chart_file=chart_file, download=False)
    ChartFile.objects.filter(pk=chart_file.pk).update(description="Renamed later")
    chart_file.refresh_from_db()
    chart_file_open(actor=actor(bob), chart_file=chart_file, download=False)
    labels = AuditEvent.objects.filter(action="chart_file.viewed").order_by("pk")
    assert [(e.object_id, e.object_label) for e in labels] == [
        (str(chart_file.public_id), "Visit summary"),
        (str(chart_file.public_id), "Renamed later"),
    ]
