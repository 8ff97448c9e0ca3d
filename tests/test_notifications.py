"""Emails: queued in the outbox with what caused them, sent by the worker over real SMTP."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinicportal.notifications.models import EmailSettings, OutboxEmail
from tests.conftest import run_worker

# The worker manages its own database connection and transactions, as in production, so these
# tests run without a wrapping transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_test_email_is_sent_with_text_and_html_parts(alice_client, email_settings, smtp_server):
    response = alice_client.post(
        reverse("office:settings_email"), {"action": "test", "to": "me@example.com"}
    )
    assert response.status_code == 302
    email = OutboxEmail.objects.get()
    assert email.status == "queued"
    run_worker()
    email.refresh_from_db()
    assert email.status == "sent" and email.attempts == 1
    (message,) = smtp_server.messages
    assert message["To"] == "me@example.com"
    assert message["From"] == "Clinic X Eye Care <portal@clinic-x.example>"
    assert message["Subject"] == "Test email from Clinic X Eye Care"
    types = sorted(part.get_content_type() for part in message.iter_parts())
    assert types == ["text/html", "text/plain"]


def test_with_smtp_down_the_email_waits_and_is_sent_exactly_once_when_it_returns(
    alice_client, email_settings, smtp_port, request
):
    alice_client.post(reverse("office:settings_email"), {"action": "test", "to": "me@example.com"})
    run_worker()  # nothing listens on the port yet
    email = OutboxEmail.objects.get()
    assert email.status == "queued" and email.attempts == 1
    assert "Connection refused" in email.last_error or "ConnectionRefused" in email.last_error
    outbox = alice_client.get(reverse("office:outbox")).content.decode()
    assert "Queued" in outbox and "trying again" in outbox

    mailbox = request.getfixturevalue("smtp_server")  # the server comes back
    run_worker()  # the retry is not due yet
    assert mailbox.messages == []
    OutboxEmail.objects.update(next_attempt_at=timezone.now())  # the retry is due
    run_worker()
    email.refresh_from_db()
    assert email.status == "sent" and email.attempts == 2
    assert len(mailbox.messages) == 1


def test_after_the_last_attempt_the_email_is_failed_and_flagged(alice_client, email_settings):
    from clinicportal.notifications.delivery import MAX_ATTEMPTS

    alice_client.post(reverse("office:settings_email"), {"action": "test", "to": "me@example.com"})
    OutboxEmail.objects.update(attempts=MAX_ATTEMPTS - 1)  # every attempt but one refused
    run_worker()
    email = OutboxEmail.objects.get()
    assert email.status == "failed" and email.attempts == MAX_ATTEMPTS
    home = alice_client.get(reverse("office:patients")).content.decode()
    assert "1 email could not be sent" in home


def test_the_patient_list_reads_the_practice_s_failed_emails_and_the_worker_in_one_query(
    alice_client, email_settings, practice_y
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clinicportal.notifications.delivery import MAX_ATTEMPTS

    alice_client.post(reverse("office:settings_email"), {"action": "test", "to": "me@example.com"})
    OutboxEmail.objects.update(attempts=MAX_ATTEMPTS - 1)
    run_worker()
    with CaptureQueriesContext(connection) as queries:
        home = alice_client.get(reverse("office:patients")).content.decode()
    assert "1 email could not be sent" in home
    sql = [q["sql"] for q in queries]
    (reading,) = [q for q in sql if "notifications_workerheartbeat" in q]
    assert "notifications_outboxemail" in reading
    assert not any(
        q.startswith('SELECT COUNT(*) AS "__count" FROM "notifications_outb') for q in sql
    )
    # Another practice's failed email is not this one's to see.
    OutboxEmail.objects.update(practice=practice_y)
    assert "could not be sent" not in alice_client.get(reverse("office:patients")).content.decode()


def test_the_smtp_server_answer_is_kept_when_it_refuses(alice_client, email_settings, smtp_server):
    async def refuse(server, session, envelope):
        return "550 5.7.1 Relaying denied"

    smtp_server.handle_DATA = refuse
    alice_client.post(reverse("office:settings_email"), {"action": "test", "to": "me@example.com"})
    run_worker()
    email = OutboxEmail.objects.get()
    assert email.last_error == "The mail server answered 550: 5.7.1 Relaying denied"


def test_without_email_settings_the_outbox_says_what_to_do(alice_client, practice_x):
    alice_client.post(reverse("office:settings_email"), {"action": "test", "to": "me@example.com"})
    run_worker()
    assert "see Admin → Email Settings" in OutboxEmail.objects.get().last_error


def test_admins_save_email_settings_and_the_password_is_never_shown(alice_client, practice_x, dns):
    dns["smtp.example.org"] = ["93.184.215.14"]
    url = reverse("office:settings_email")
    data = {
        "host": "smtp.example.org",
        "port": "587",
        "security": "starttls",
        "username": "u",
        "password": "s3cret-smtp-pass",
        "from_address": "portal@example.org",
    }
    assert alice_client.post(url, data).status_code == 302
    html = alice_client.get(url).content.decode()
    assert "s3cret-smtp-pass" not in html and "a password is saved" in html
    assert alice_client.post(url, {**data, "password": ""}).status_code == 302
    assert EmailSettings.objects.get().password == "s3cret-smtp-pass"


def test_bad_email_settings_are_refused_next_to_the_field(alice_client, practice_x):
    response = alice_client.post(
        reverse("office:settings_email"),
        {"host": "", "port": "99999", "security": "starttls", "from_address": "nope"},
    )
    html = response.content.decode()
    assert "This field is required." in html
    assert "less than or equal to 65535" in html
    assert "Enter a valid email address." in html
    assert not EmailSettings.objects.exists()


def test_only_admins_open_email_settings_and_outsiders_get_404_in_the_outbox(
    bob_client, carol_client, alice_client, email_settings
):
    assert bob_client.get(reverse("office:settings_email")).status_code == 403
    alice_client.post(reverse("office:settings_email"), {"action": "test", "to": "me@example.com"})
    email = OutboxEmail.objects.get()
    url = reverse("office:outbox_email", args=[email.public_id])
    assert bob_client.get(url).status_code == 200
    assert carol_client.get(url).status_code == 404
    assert "me@example.com" not in carol_client.get(reverse("office:outbox")).content.decode()


def test_the_outbox_list_runs_a_constant_number_of_queries(alice_client, email_settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            alice_client.get(reverse("office:outbox"))
        return len(queries)

    alice_client.post(reverse("office:settings_email"), {"action": "test", "to": "a@example.com"})
    one = count()
    for i in range(10):
        alice_client.post(
            reverse("office:settings_email"), {"action": "test", "to": f"b{i}@example.com"}
        )
    assert count() == one


def test_email_portal_access_sends_a_link_never_a_password(
    bob_client, patient_a, email_settings, smtp_server, issue_access, client, practice_x
):
    _, temporary = issue_access(patient_a, "ada")
    response = bob_client.post(reverse("office:portal_access_email", args=[patient_a.public_id]))
    assert response.status_code == 302
    run_worker()
    (message,) = smtp_server.messages
    text = message.get_body(("plain",)).get_content()
    assert message["To"] == "ada@example.com"
    assert "Username: ada" in text and "http://testserver/p/clinic-x/" in text
    assert temporary not in text
    for word in ("Lovelace", "exam", "diagnos"):
        assert word not in text
    found = re.search(r"http://testserver(/p/clinic-x/password/[\w-]+/)", text)
    assert found is not None
    link = found.group(1)
    page = client.get(link)
    assert "For the account <strong>ada</strong>" in page.content.decode()
    new = "quiet-harbor-lamp-2044"
    assert client.post(link, {"new_password": new, "confirm_password": new}).status_code == 302
    again = client.get(link)
    assert again.status_code == 410 and "already used" in again.content.decode()
    assert (
        client.post("/p/clinic-x/login/", {"username": "ada", "password": new}).status_code == 302
    )


def test_a_set_password_link_works_for_72_hours_and_not_a_second_more(
    bob_client, patient_a, email_settings, smtp_server, issue_access, monkeypatch
):
    from clinicportal.accounts.models import PortalLink

    issue_access(patient_a, "ada")
    bob_client.post(reverse("office:portal_access_email", args=[patient_a.public_id]))
    run_worker()
    link = _link_from(smtp_server)
    row = PortalLink.objects.get()
    lifetime = row.expires_at - row.created_at
    assert abs(lifetime - datetime.timedelta(hours=72)) < datetime.timedelta(seconds=1)
    until = timezone.localtime(row.expires_at).strftime("%m/%d/%Y %-I:%M %p")
    assert f"until {until}" in smtp_server.messages[-1].get_body(("plain",)).get_content()
    monkeypatch.setattr(timezone, "now", lambda: row.expires_at - datetime.timedelta(seconds=1))
    assert "For the account <strong>ada</strong>" in Client().get(link).content.decode()
    monkeypatch.setattr(timezone, "now", lambda: row.expires_at + datetime.timedelta(seconds=1))
    late = Client().get(link)
    assert late.status_code == 410 and "This link has expired." in late.content.decode()
    new = "quiet-harbor-lamp-2044"
    refused = Client().post(link, {"new_password": new, "confirm_password": new})
    assert refused.status_code == 410
    assert PortalLink.objects.get().used_at is None


def test_email_portal_access_says_why_it_cannot_send(
    bob_client, patient_b, email_settings, issue_access
):
    url = reverse("office:portal_access_email", args=[patient_b.public_id])
    first = bob_client.post(url, follow=True).content.decode()
    assert "has no portal access yet" in first
    issue_access(patient_b, "blaise")
    second = bob_client.post(url, follow=True).content.decode()
    assert "has no email address" in second
    assert not OutboxEmail.objects.exists()


def test_email_portal_access_is_404_for_another_practice(carol_client, patient_a, issue_access):
    issue_access(patient_a, "ada")
    assert (
        carol_client.post(
            reverse("office:portal_access_email", args=[patient_a.public_id])
        ).status_code
        == 404
    )
    assert not OutboxEmail.objects.exists()


def _link_from(mailbox) -> str:
    text = mailbox.messages[-1].get_body(("plain",)).get_content()
    found = re.search(r"http://testserver(/p/clinic-x/password/[\w-]+/)", text)
    assert found is not None
    return found.group(1)


def test_forgot_password_by_username_or_email_sends_a_single_use_link(
    ada_portal, practice_x, email_settings, smtp_server
):
    client = Client()
    for identifier in ("ada", "ADA@example.com"):
        response = client.post("/p/clinic-x/forgot/", {"identifier": identifier})
        assert "Check your email" in response.content.decode()
    run_worker()
    assert len(smtp_server.messages) == 2
    assert smtp_server.messages[0]["Subject"] == "Reset your Clinic X Eye Care portal password"
    link = _link_from(smtp_server)
    new = "amber-willow-kite-3301"
    assert client.post(link, {"new_password": new, "confirm_password": new}).status_code == 302
    assert ada_portal.get("/p/clinic-x/logs/").status_code == 302  # other sessions ended
    assert (
        client.post("/p/clinic-x/login/", {"username": "ada", "password": new}).status_code == 302
    )
    assert client.get(link).status_code == 410


def test_forgot_password_says_the_same_for_unknown_accounts(
    ada_portal, email_settings, smtp_server
):
    client = Client()
    known = client.post("/p/clinic-x/forgot/", {"identifier": "ada"}).content.decode()
    unknown = client.post("/p/clinic-x/forgot/", {"identifier": "nobody"}).content.decode()
    strip = lambda html: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)  # noqa: E731
    assert strip(known) == strip(unknown)
    run_worker()
    assert len(smtp_server.messages) == 1


def test_an_expired_or_unknown_link_offers_a_new_one(ada_portal, email_settings, smtp_server):
    client = Client()
    from clinicportal.accounts.models import PortalLink

    client.post("/p/clinic-x/forgot/", {"identifier": "ada"})
    run_worker()
    link = _link_from(smtp_server)
    PortalLink.objects.update(expires_at=timezone.now())
    expired = client.get(link)
    assert expired.status_code == 410
    assert "This link has expired." in expired.content.decode()
    assert 'href="/p/clinic-x/forgot/"' in expired.content.decode()
    bogus = client.get("/p/clinic-x/password/not-a-real-token/")
    assert bogus.status_code == 410 and "not valid" in bogus.content.decode()
    new = "amber-willow-kite-3301"
    client.post(link, {"new_password": new, "confirm_password": new})
    assert (
        client.post("/p/clinic-x/login/", {"username": "ada", "password": new}).status_code == 200
    )


def test_a_link_of_one_practice_does_not_work_at_another(
    ada_portal, practice_y, email_settings, smtp_server
):
    client = Client()
    client.post("/p/clinic-x/forgot/", {"identifier": "ada"})
    run_worker()
    link = _link_from(smtp_server).replace("/p/clinic-x/", "/p/clinic-y/")
    assert client.get(link).status_code == 410


def test_reset_requests_show_in_logs(ada_portal, email_settings):
    client = Client()
    client.post("/p/clinic-x/forgot/", {"identifier": "ada"})
    run_worker()
    assert "Password reset link requested" in ada_portal.get("/p/clinic-x/logs/").content.decode()


def test_forgot_password_sends_at_most_three_links_an_account_in_the_window(ada_portal):
    from clinicportal.accounts.services.links import RESETS_PER_ACCOUNT

    client = Client()
    for _ in range(RESETS_PER_ACCOUNT + 2):
        response = client.post("/p/clinic-x/forgot/", {"identifier": "ada"})
        assert "Check your email" in response.content.decode()  # the same answer throughout
    run_worker()
    assert OutboxEmail.objects.filter(kind="password_reset").count() == RESETS_PER_ACCOUNT


def test_forgot_password_requests_from_one_address_are_capped(ada_portal):
    from clinicportal.accounts.throttle import PER_ADDRESS

    client = Client()
    for number in range(PER_ADDRESS):
        client.post("/p/clinic-x/forgot/", {"identifier": f"someone{number}"})
    response = client.post("/p/clinic-x/forgot/", {"identifier": "ada"})
    assert "Check your email" in response.content.decode()
    run_worker()
    assert not OutboxEmail.objects.filter(kind="password_reset").exists()


def test_an_email_a_stopped_worker_left_sending_is_queued_again(
    alice_client, email_settings, smtp_server
):
    from clinicportal.notifications.delivery import (
        MAX_ATTEMPTS,
        lease,
        outbox_reclaim_expired,
    )

    for to in ("me@example.com", "you@example.com"):
        alice_client.post(reverse("office:settings_email"), {"action": "test", "to": to})
    # A worker claimed both, then stopped: the rows still say "sending".
    OutboxEmail.objects.update(
        status="sending", attempts=1, claimed_by="gone", lease_until=timezone.now() + lease()
    )
    OutboxEmail.objects.filter(to="you@example.com").update(attempts=MAX_ATTEMPTS)
    assert outbox_reclaim_expired() == 0  # not stalled yet: a worker may still be on them
    OutboxEmail.objects.update(lease_until=timezone.now() - datetime.timedelta(minutes=1))
    assert outbox_reclaim_expired() == 2
    run_worker()
    sent = OutboxEmail.objects.get(to="me@example.com")
    assert (sent.status, sent.attempts) == ("sent", 2)
    given_up = OutboxEmail.objects.get(to="you@example.com")
    assert given_up.status == "failed" and "worker stopped" in given_up.last_error
    assert [m["To"] for m in smtp_server.messages] == ["me@example.com"]


def test_plain_text_parts_are_not_html_escaped_but_the_html_part_is(practice_x):
    from clinicportal.notifications.services import email_queue

    practice_x.name = "Smith & O'Brien <Eye Care>"
    email = email_queue(
        practice=practice_x,
        to="ada@example.com",
        template="payment_receipt",
        context={"amount": "$5.00", "date": "11/30/2026", "number": 7, "portal_url": "https://x"},
    )
    assert "Smith & O'Brien <Eye Care>" in email.subject
    assert "Smith & O'Brien <Eye Care> received your payment" in email.body_text
    assert "Smith &amp; O&#x27;Brien &lt;Eye Care&gt;" in email.body_html
