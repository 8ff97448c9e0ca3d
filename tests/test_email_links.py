"""Single-use links in emails: nobody at the office can read them, and they go where they should.

Staff are not the patient: the Outbox must not let them set a patient's password. Links start
with the configured address, never the request's Host, and follow the patient's current email.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.notifications.delivery import LINK_PLACEHOLDER
from clinicportal.notifications.models import OutboxEmail
from tests.conftest import run_worker

pytestmark = pytest.mark.django_db(transaction=True)

LINK = re.compile(r"https?://[^\s\"<>]+/password/[\w-]+/")


def _plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_the_outbox_never_shows_a_live_link_and_opening_an_email_is_audited(
    alice_client, bob_client, bob, patient_a, email_settings, smtp_server, issue_access
):
    issue_access(patient_a, "ada")
    alice_client.post(reverse("office:portal_access_email", args=[patient_a.public_id]))
    email = OutboxEmail.objects.get()
    for body in (email.body_text, email.body_html):
        assert LINK_PLACEHOLDER in body
        assert "/password/" not in body
    with connection.cursor() as cursor:  # at rest, only ciphertext
        cursor.execute("SELECT secret_link FROM notifications_outboxemail")
        (stored,) = cursor.fetchone()
    assert stored.startswith("fernet:") and "/password/" not in stored

    page = bob_client.get(reverse("office:outbox_email", args=[email.public_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert LINK_PLACEHOLDER in html and "/password/" not in html
    viewed = AuditEvent.objects.get(action=AuditEvent.Action.OUTBOX_EMAIL_VIEWED)
    assert viewed.actor_user == bob.user and viewed.object_id == str(email.public_id)

    run_worker()
    (message,) = smtp_server.messages
    found = LINK.search(_plain(message))
    assert found is not None
    assert f'href="{found.group(0)}"' in message.get_body(("html",)).get_content()
    email.refresh_from_db()
    assert email.status == "sent" and email.secret_link == ""  # only the hash is left
    assert (
        "/password/"
        not in bob_client.get(
            reverse("office:outbox_email", args=[email.public_id])
        ).content.decode()
    )
    link_page = Client().get(found.group(0).removeprefix("http://testserver"))
    assert "For the account <strong>ada</strong>" in link_page.content.decode()


def test_an_email_that_can_never_be_sent_forgets_its_link(
    alice_client, patient_a, email_settings, issue_access
):
    from clinicportal.notifications.delivery import MAX_ATTEMPTS

    issue_access(patient_a, "ada")
    alice_client.post(reverse("office:portal_access_email", args=[patient_a.public_id]))
    OutboxEmail.objects.update(attempts=MAX_ATTEMPTS - 1)
    run_worker()  # nothing listens on the SMTP port: the last attempt fails
    email = OutboxEmail.objects.get()
    assert email.status == "failed" and email.secret_link == ""


def test_links_start_with_the_configured_address_whatever_the_host_header(
    settings, bob_client, patient_a, email_settings, smtp_server, issue_access
):
    settings.CLINICPORTAL_BASE_URL = "https://portal.clinic-x.example"
    settings.ALLOWED_HOSTS = ["testserver", "portal.clinic-x.example"]
    issue_access(patient_a, "ada")
    bob_client.post(
        reverse("office:portal_access_email", args=[patient_a.public_id]),
        HTTP_HOST="portal.clinic-x.example:9999",
    )
    Client().post("/p/clinic-x/forgot/", {"identifier": "ada"}, HTTP_HOST="testserver:9999")
    run_worker()
    assert len(smtp_server.messages) == 2
    for message in smtp_server.messages:
        text = _plain(message)
        assert "9999" not in text and "testserver" not in text
        (link,) = LINK.findall(text)
        assert link.startswith("https://portal.clinic-x.example/p/clinic-x/password/")


def test_reset_links_follow_the_patients_current_address_and_the_old_one_is_told(
    alice_client, patient_a, email_settings, smtp_server, ada_portal
):
    form = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1980-04-02",
        "email": "ada.new@example.com",
    }
    response = alice_client.post(reverse("office:patient_edit", args=[patient_a.public_id]), form)
    assert response.status_code == 302
    Client().post("/p/clinic-x/forgot/", {"identifier": "ada"})
    Client().post("/p/clinic-x/forgot/", {"identifier": "ADA.NEW@example.com"})
    Client().post("/p/clinic-x/forgot/", {"identifier": "ada@example.com"})  # the old address
    run_worker()
    by_address: dict[str, list] = {}
    for message in smtp_server.messages:
        by_address.setdefault(message["To"], []).append(message)
    assert sorted(by_address) == ["ada.new@example.com", "ada@example.com"]
    assert len(by_address["ada.new@example.com"]) == 2
    assert all(LINK.search(_plain(m)) for m in by_address["ada.new@example.com"])
    (notice,) = by_address["ada@example.com"]
    assert "changed the email address" in _plain(notice)
    assert "/password/" not in notice.as_string()
    logs = ada_portal.get("/p/clinic-x/logs/").content.decode()
    assert "Email address changed by the office" in logs


def test_forgot_password_does_the_same_work_for_known_and_unknown_names(ada_portal):
    def statements(identifier: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            response = Client().post("/p/clinic-x/forgot/", {"identifier": identifier})
        assert "Check your email" in response.content.decode()
        # The shape of each statement: which tables, in what order, without the values.
        return [re.sub(r"'[^']*'|\b\d+\b|%s|\?", "?", q["sql"]) for q in queries.captured_queries]

    known, unknown = statements("ada"), statements("nobody-here")
    assert known == unknown
    assert not OutboxEmail.objects.exists()  # the lookup happens in the worker, after the answer


def test_the_migration_takes_links_out_of_emails_written_before_it(practice_x):
    import importlib

    from django.apps import apps

    hide_links = importlib.import_module(
        "clinicportal.notifications.migrations.0003_outbox_secret_link"
    ).hide_links
    link = "http://testserver/p/clinic-x/password/Tok3n_-x/"
    body = {"body_text": f"Choose:\n{link}\n", "body_html": f'<a href="{link}">Choose</a>'}
    waiting = OutboxEmail.objects.create(
        practice=practice_x, kind="portal_access", to="a@example.com", subject="s", **body
    )
    sent = OutboxEmail.objects.create(
        practice=practice_x,
        kind="password_reset",
        to="b@example.com",
        subject="s",
        status="sent",
        **body,
    )
    hide_links(apps, None)
    waiting.refresh_from_db()
    sent.refresh_from_db()
    for email in (waiting, sent):
        assert link not in email.body_text + email.body_html
        assert LINK_PLACEHOLDER in email.body_text and LINK_PLACEHOLDER in email.body_html
    assert waiting.secret_link == link  # still to be sent: kept, encrypted
    assert sent.secret_link == ""  # already out: only the hash is left
