"""The demo practice loads once, with real PDFs, and the generator adds patients in bulk."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from pypdf import PdfReader

from clinicportal.accounts.models import PortalAccount, User
from clinicportal.content.blobstore import get_blob_store
from clinicportal.demo.data import DEMO_API_KEY, DEMO_LOGINS, DEMO_PORTAL_LOGINS
from clinicportal.messaging.models import Conversation, Message, MessageRead, Task
from clinicportal.patients.models import ChartFile, Patient
from clinicportal.practices.models import Practice
from tests.conftest import PDF_BYTES
from tests.test_records import named


def test_demo_load_twice_makes_one_practice_with_readable_pdfs(db):
    first = io.StringIO()
    call_command("demo_load", stdout=first)
    counts = (
        Practice.objects.count(),
        Patient.objects.count(),
        ChartFile.objects.count(),
        User.objects.count(),
        Message.objects.count(),
        Task.objects.count(),
        MessageRead.objects.count(),
    )
    call_command("demo_load", stdout=io.StringIO())
    assert (
        Practice.objects.count(),
        Patient.objects.count(),
        ChartFile.objects.count(),
        User.objects.count(),
        Message.objects.count(),
        Task.objects.count(),
        MessageRead.objects.count(),
    ) == counts
    practice = Practice.objects.get(slug="clearview")
    assert practice.name == "Clearview Eye Care"
    assert counts[1] == 53
    assert counts[2] >= 50
    for login in DEMO_LOGINS:
        assert login.username in first.getvalue() and login.password in first.getvalue()
        assert User.objects.get(username=login.username).check_password(login.password)
    for login in DEMO_PORTAL_LOGINS:
        assert login.username in first.getvalue() and login.password in first.getvalue()
        signed_in = Client()
        response = signed_in.post(
            "/p/clearview/login/", {"username": login.username, "password": login.password}
        )
        assert response.status_code == 302
    guardian = PortalAccount.objects.get(username="morgan.rivera")
    assert guardian.grants.count() == 2
    jordan = Client()
    jordan.post(
        "/p/clearview/login/", {"username": "jordan.rivera", "password": "maple-comet-river-58"}
    )
    records = jordan.get("/p/clearview/records/").content.decode()
    assert "Your visit summary" in records and "Dry Eye" in records
    assert DEMO_API_KEY in first.getvalue()
    printed = Client().post(
        f"/api/v1/patients/{Patient.objects.get(first_name='Jordan').public_id}/portal-documents",
        {"file": named("rx.pdf", PDF_BYTES), "description": "Prescription"},
        headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
    )
    assert printed.status_code == 201
    assert "Prescription" in jordan.get("/p/clearview/records/").content.decode()
    # Every chart file is a PDF of one page about its own patient and its own title.
    for chart_file in ChartFile.objects.select_related("patient", "blob"):
        reader = PdfReader(get_blob_store().path(chart_file.blob.storage_name))
        text = " ".join(reader.pages[0].extract_text().split())
        assert len(reader.pages) == 1
        assert chart_file.patient.full_name in text
        assert chart_file.filename.removesuffix(".pdf").split(" ", 1)[-1] in text


def test_the_demo_patients_have_messages_and_the_office_has_tasks(db):
    from clinicportal.core.context import PortalActor, StaffActor
    from clinicportal.messaging.selectors import open_task_count, portal_unread_count
    from clinicportal.notifications.models import OutboxEmail
    from clinicportal.practices.models import StaffMember

    call_command("demo_load", stdout=io.StringIO())
    practice = Practice.objects.get(slug="clearview")
    jordan = PortalAccount.objects.get(username=DEMO_PORTAL_LOGINS[0].username)
    patient = Patient.objects.get(practice=practice, first_name="Jordan", last_name="Rivera")
    conversations = Conversation.objects.filter(practice=practice, patient=patient)
    assert conversations.count() == 3
    messages = Message.objects.filter(patient=patient)
    assert messages.filter(writer="patient", requests_response=True).count() == 2
    assert messages.filter(writer="automatic").count() == 3
    reply = messages.get(writer="office", read__isnull=True)  # the one reply not read yet
    assert reply.office_notes and reply.email is None
    assert reply.conversation.messages.get(writer="patient").answered_by == reply
    assert messages.filter(writer="office", attachments__isnull=False).exists()
    assert portal_unread_count(actor=PortalActor(account=jordan, patient=patient)) == 1
    # Morgan wrote about Avery as an authorized user.
    avery = Message.objects.get(writer="patient", patient__first_name="Avery")
    assert avery.author_name == "Morgan Rivera" and not avery.author_is_patient
    tasks = Task.objects.filter(practice=practice)
    assert tasks.filter(signed_off_at__isnull=True).count() == 2
    assert tasks.filter(signed_off_at__isnull=False).count() == 2
    admin = StaffMember.objects.select_related("user").get(user__username=DEMO_LOGINS[0].username)
    assert open_task_count(actor=StaffActor(user=admin.user, staff=admin)) == 2
    # Every step happened in the past days, in order, and no email waits to be sent.
    history = list(messages.order_by("created_at", "id"))
    assert history[0].created_at < history[-1].created_at
    assert not OutboxEmail.objects.exists()


def test_generate_patients_adds_patients_with_files(db):
    call_command("demo_load", stdout=io.StringIO())
    out = io.StringIO()
    call_command("generate_patients", "300", "--practice", "clearview", stdout=out)
    assert Patient.objects.count() == 353
    assert "Added 300 patients" in out.getvalue()
    generated = ChartFile.objects.filter(description="Generated for benchmarks")
    assert generated.count() == 300
    assert generated.values("blob").distinct().count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_demo_smtp_server_accepts_the_demo_practice_mail(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from clinicportal.demo.data import DEMO_SMTP_PORT
    from clinicportal.notifications.models import EmailSettings, OutboxEmail
    from clinicportal.notifications.services import email_queue
    from tests.conftest import free_port, run_worker

    call_command("demo_load", stdout=io.StringIO())
    practice = Practice.objects.get(slug="clearview")
    settings_row = EmailSettings.objects.get(practice=practice)
    assert (settings_row.host, settings_row.port) == ("127.0.0.1", DEMO_SMTP_PORT)
    port = free_port()
    EmailSettings.objects.filter(pk=settings_row.pk).update(port=port)
    script = Path(sys.executable).with_name("clinicportal")
    server = subprocess.Popen(
        [str(script), "demo_smtp", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "CLINICPORTAL_VAR_DIR": str(tmp_path)},
    )
    try:
        assert server.stdout is not None
        assert "Demo SMTP server" in server.stdout.readline()
        email_queue(
            practice=practice,
            to="jordan.rivera@example.com",
            template="test",
            context={"sender": "demo"},
        )
        run_worker()
        assert OutboxEmail.objects.get().status == "sent"
        assert "accepted mail to jordan.rivera@example.com" in server.stdout.readline()
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.parametrize("login", DEMO_LOGINS, ids=lambda login: login.role)
def test_each_demo_office_login_signs_in_with_the_printed_code(db, login):
    from django.urls import reverse

    from clinicportal.accounts import totp

    out = io.StringIO()
    call_command("demo_load", stdout=out)
    assert "demo_code <username>" in out.getvalue()
    assert f"{login.username:<16} key {login.totp_secret}" in out.getvalue()
    code = io.StringIO()
    call_command("demo_code", login.username, stdout=code)
    assert code.getvalue().strip() == totp.code_at(login.totp_secret, totp.current_step())
    every = io.StringIO()
    call_command("demo_code", stdout=every)
    assert f"{login.username:<16} {code.getvalue().strip()}" in every.getvalue().splitlines()
    client = Client()
    asked = client.post(
        reverse("office:login"), {"username": login.username, "password": login.password}
    )
    assert asked["Location"] == reverse("office:login_code")
    response = client.post(reverse("office:login_code"), {"code": code.getvalue().strip()})
    assert response["Location"] == reverse("office:home")


def test_demo_code_refuses_a_login_whose_key_was_changed(db):
    from django.core.management.base import CommandError

    from clinicportal.accounts.models import TwoFactorDevice

    call_command("demo_load", stdout=io.StringIO())
    staff = DEMO_LOGINS[1]
    TwoFactorDevice.objects.filter(user__username=staff.username).update(secret="A" * 32)
    with pytest.raises(CommandError, match="does not use its demo key"):
        call_command("demo_code", staff.username, stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("demo_code", "jordan.rivera", stdout=io.StringIO())


def test_demo_load_refuses_to_run_in_production(db, settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="never runs with CLINICPORTAL_ENV=production"):
        call_command("demo_load", stdout=io.StringIO())
    assert not Practice.objects.exists() and not User.objects.exists()


def test_demo_load_never_touches_a_user_it_did_not_make(db):
    from django.core.management.base import CommandError

    from clinicportal.practices.services import practice_create

    practice_create(
        name="A Real Clinic",
        slug="real-clinic",
        address="1 Main Street",
        phone="(207) 555-0100",
        admin_username=DEMO_LOGINS[0].username,  # the same name as the demo's admin, by chance
        admin_email="owner@real-clinic.com",
        admin_name="Real Owner",
        admin_password="a-real-owners-own-password-1",
    )
    with pytest.raises(CommandError, match="was not made by the demo"):
        call_command("demo_load", stdout=io.StringIO())
    owner = User.objects.get(username=DEMO_LOGINS[0].username)
    assert owner.check_password("a-real-owners-own-password-1")
    from clinicportal.accounts.models import TwoFactorDevice

    assert not TwoFactorDevice.objects.filter(user=owner).exists()
    assert list(Practice.objects.values_list("slug", flat=True)) == ["real-clinic"]


def test_the_demo_practice_has_invoices_in_every_state(db):
    from clinicportal.billing.models import Invoice
    from clinicportal.billing.selectors import totals, with_totals

    call_command("demo_load", stdout=io.StringIO())
    call_command("demo_load", stdout=io.StringIO())  # a second run adds none
    invoices = list(with_totals(Invoice.objects.filter(practice__slug="clearview")))
    assert len(invoices) == 4
    by_state = {(i.status, totals(i).balance == 0) for i in invoices}
    assert ("finalized", True) in by_state  # paid
    assert ("finalized", False) in by_state  # a balance to pay
    assert ("draft", False) in by_state
    partly = [i for i in invoices if totals(i).payments and totals(i).balance]
    assert partly and totals(partly[0]).adjustments == 1_500


def test_the_demo_practice_takes_payments_with_the_test_processor(db):
    from clinicportal.billing.models import PaymentSettings

    call_command("demo_load", stdout=io.StringIO())
    practice = Practice.objects.get(slug="clearview")
    assert practice.pay_bills_enabled
    assert PaymentSettings.objects.get(practice=practice).processor == "test"
    call_command("demo_load", stdout=io.StringIO())  # a second run changes nothing
    assert PaymentSettings.objects.filter(practice=practice).count() == 1


def test_the_demo_practice_has_a_schedule_and_forms(db):
    """One demo load (they are slow) for SCHEDULE and FORMS, and a second changes nothing."""
    import datetime
    import itertools

    from clinicportal.scheduling.models import Appointment, AppointmentType, Provider
    from clinicportal.scheduling.selectors import (
        local_days,
        providers_for,
        schedule_settings_for,
        slots_for,
    )

    call_command("demo_load", stdout=io.StringIO())
    practice = Practice.objects.get(slug="clearview")
    assert practice.schedule_enabled
    config = schedule_settings_for(practice)
    assert config.mode == "book"
    assert Provider.objects.filter(practice=practice).count() == 2
    exam = AppointmentType.objects.get(practice=practice, name="Comprehensive eye exam")
    booked = Appointment.objects.filter(practice=practice)
    jordan = booked.filter(patient__first_name="Jordan", patient__last_name="Rivera")
    now = datetime.datetime.now(datetime.UTC)
    assert jordan.filter(starts_at__gt=now).count() == 1
    assert jordan.filter(starts_at__lt=now).count() == 1
    assert booked.filter(starts_at__gt=now).count() > 20
    # Bookings never overlap, and times are left free to book.
    for provider in Provider.objects.filter(practice=practice):
        spans = sorted(booked.filter(provider=provider).values_list("starts_at", "ends_at"))
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))
    today = datetime.datetime.now(practice.zone).date()
    free = slots_for(
        practice=practice,
        kind=exam,
        providers=providers_for(practice, exam),
        days=local_days(today + datetime.timedelta(days=1), 14),
        earliest=now,
        config=config,
    )
    assert len(free) > 20
    forms = _demo_forms_checked(practice)
    call_command("demo_load", stdout=io.StringIO())  # a second run changes nothing
    assert Appointment.objects.filter(practice=practice).count() == booked.count()
    assert _demo_forms_checked(practice) == forms == 2
    assert Provider.objects.filter(practice=practice).count() == 2


def _demo_forms_checked(practice) -> int:
    """FORMS is on, the intake form uses every kind of field and waits for Jordan."""
    from clinicportal.intake.models import Form, FormAssignment
    from clinicportal.intake.services import current_version

    assert practice.forms_enabled
    intake = Form.objects.get(practice=practice, kind=Form.Kind.INTAKE)
    kinds_used = {field["kind"] for field in current_version(intake).fields}
    assert {"short_text", "long_text", "date", "number", "yes_no"} <= kinds_used
    assert {"single_choice", "multiple_choice", "signature", "heading", "help_text"} <= kinds_used
    (assigned,) = FormAssignment.objects.filter(form=intake)
    assert (assigned.patient.first_name, assigned.completed_at) == ("Jordan", None)
    assert Form.objects.get(practice=practice, kind=Form.Kind.HIPAA).offered_to_all
    return Form.objects.filter(practice=practice).count()
