"""Outbox "Send again": a failed email goes out again, once, and a link in it is a new one."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from clinicportal.accounts.models import PortalLink
from clinicportal.audit.models import AuditEvent
from clinicportal.notifications.delivery import MAX_ATTEMPTS
from clinicportal.notifications.models import OutboxEmail
from tests.conftest import run_worker

pytestmark = pytest.mark.django_db(transaction=True)


def fail_every_email() -> None:
    """Nothing listens on the SMTP port: let the queued emails use up their last attempt."""
    OutboxEmail.objects.filter(status="queued").update(attempts=MAX_ATTEMPTS - 1)
    run_worker()
    assert not OutboxEmail.objects.exclude(status__in=["failed", "sent"]).exists()


def send_again(client, email: OutboxEmail):
    return client.post(
        reverse("office:outbox_email_send_again", args=[email.public_id]), follow=True
    )


def test_a_failed_email_is_sent_again_once_and_the_press_is_recorded(
    alice_client, email_settings, request
):
    alice_client.post(reverse("office:settings_email"), {"action": "test", "to": "me@example.com"})
    fail_every_email()
    email = OutboxEmail.objects.get()
    page = alice_client.get(reverse("office:outbox_email", args=[email.public_id]))
    assert "Send again" in page.content.decode()

    answer = send_again(alice_client, email)
    assert "The email is queued to be sent again." in answer.content.decode()
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("queued", 0, "")
    again = send_again(alice_client, email)  # a double click
    assert "already sent again; nothing was changed" in again.content.decode()

    mailbox = request.getfixturevalue("smtp_server")
    run_worker()
    email.refresh_from_db()
    assert email.status == "sent" and len(mailbox.messages) == 1
    resent = AuditEvent.objects.filter(action=AuditEvent.Action.OUTBOX_EMAIL_RESENT)
    assert resent.count() == 1 and resent.get().actor_name == "Alice"


def test_a_failed_link_email_goes_again_with_a_new_link_and_the_old_one_ends(
    alice_client, patient_a, email_settings, issue_access, request, client
):
    issue_access(patient_a, "ada")
    alice_client.post(reverse("office:portal_access_email", args=[patient_a.public_id]))
    fail_every_email()
    failed = OutboxEmail.objects.get()
    old_link = PortalLink.objects.get(email=failed)

    answer = send_again(alice_client, failed)
    assert "A new email with a new link is queued" in answer.content.decode()
    assert send_again(alice_client, failed).status_code == 200  # a second press
    assert OutboxEmail.objects.count() == 2  # the failed one and its one replacement
    failed.refresh_from_db()
    replacement = failed.sent_again_as
    assert replacement is not None and failed.status == "failed"
    old_link.refresh_from_db()
    assert old_link.replaced_at is not None  # the link nobody received works no more

    mailbox = request.getfixturevalue("smtp_server")
    run_worker()
    (message,) = mailbox.messages
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://testserver(/p/clinic-x/password/\S+/)", body)
    assert link is not None
    assert client.get(link.group(1)).status_code == 200
    page = alice_client.get(reverse("office:outbox_email", args=[failed.public_id])).content
    assert "Sent again as a new email" in page.decode()


def test_send_again_is_404_for_another_practice_and_never_a_get(
    alice_client, carol_client, email_settings
):
    alice_client.post(reverse("office:settings_email"), {"action": "test", "to": "me@example.com"})
    fail_every_email()
    email = OutboxEmail.objects.get()
    url = reverse("office:outbox_email_send_again", args=[email.public_id])
    assert carol_client.post(url).status_code == 404
    assert alice_client.get(url).status_code == 405
    email.refresh_from_db()
    assert email.status == "failed"
