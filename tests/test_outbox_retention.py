"""A sent email keeps its text and files for CLINICPORTAL_OUTBOX_TEXT_DAYS, then forgets them
(ASVS 14.2.7); that it was sent, to whom, when and with which subject stays."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clinicportal.notifications.models import OutboxEmail
from tests.conftest import run_worker
from tests.test_outbox_attachments import queue_with_attachment

pytestmark = pytest.mark.django_db(transaction=True)


def sent_days_ago(email: OutboxEmail, days: float) -> None:
    OutboxEmail.objects.filter(pk=email.pk).update(sent_at=timezone.now() - timedelta(days=days))


def sweep() -> str:
    out = io.StringIO()
    call_command("sweep", stdout=out)
    return out.getvalue()


def test_sweep_forgets_what_emails_sent_long_ago_said_and_keeps_that_they_were_sent(
    practice_x, email_settings, smtp_server, settings
):
    settings.CLINICPORTAL_OUTBOX_TEXT_DAYS = 90
    old, recent, waiting, failed, replaced = (queue_with_attachment(practice_x) for _ in range(5))
    OutboxEmail.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now() + timedelta(1))
    run_worker()
    sent_days_ago(old, 90.1)
    sent_days_ago(recent, 89.9)
    OutboxEmail.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(99))
    long_ago = timezone.now() - timedelta(99)
    OutboxEmail.objects.filter(pk__in=[failed.pk, replaced.pk]).update(
        status="failed", sent_at=None, created_at=long_ago
    )
    OutboxEmail.objects.filter(pk=replaced.pk).update(sent_again_as=recent)

    assert "Forgot the text of 2 emails sent more than" in sweep()
    replaced.refresh_from_db()
    assert (replaced.body_text, replaced.attachments) == ("", [])
    old.refresh_from_db()
    assert (old.body_text, old.body_html, old.attachments) == ("", "", [])
    assert old.text_forgotten_at is not None
    assert (old.status, old.to, old.subject) == ("sent", "ada@example.com", recent.subject)
    for kept in (recent, waiting, failed):  # failed, it may be sent again as it was
        kept.refresh_from_db()
        assert kept.body_text and kept.attachments and kept.text_forgotten_at is None
    assert "Forgot the text of 0 emails" in sweep()  # once is enough


def test_the_outbox_says_an_email_s_text_was_forgotten_and_when(
    alice_client, practice_x, email_settings, smtp_server, settings
):
    settings.CLINICPORTAL_OUTBOX_TEXT_DAYS = 30
    old, recent = queue_with_attachment(practice_x), queue_with_attachment(practice_x)
    run_worker()
    sent_days_ago(old, 31)
    sweep()
    page = alice_client.get(reverse("office:outbox_email", args=[old.public_id])).text
    today = timezone.localdate().strftime("%m/%d/%Y")
    assert f"Its text and files were forgotten on {today}" in page
    assert "a sent email keeps them for 30 days" in page
    assert "appointment.ics" not in page and 'class="email-body"' not in page
    page = alice_client.get(reverse("office:outbox_email", args=[recent.public_id])).text
    assert 'class="email-body"' in page and "forgotten" not in page
