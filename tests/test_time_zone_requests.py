"""Office, portal, API and processor requests run in the practice's time zone, and only them."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone

from clinicportal.accounts.models import PortalAccount
from clinicportal.accounts.services.api_keys import api_key_create
from clinicportal.notifications.models import OutboxEmail
from clinicportal.notifications.services import email_send_test
from clinicportal.practices.models import Practice, StaffMember
from clinicportal.records.models import PortalDocument
from tests.conftest import actor, login, run_worker
from tests.test_api import post as api_post
from tests.test_pay_bills import bill, pay_bills_on, pay_form, pay_url
from tests.test_payment_webhooks import confirmation
from tests.test_payment_webhooks import post as webhook_post

DENVER = zoneinfo.ZoneInfo("America/Denver")
# 05:30 UTC on July 4th is 11:30 PM on July 3rd in Denver, and already 1:30 AM in New York.
LATE_IN_DENVER = datetime.datetime(2026, 7, 4, 5, 30, tzinfo=datetime.UTC)


def zone_set(practice: Practice, name: str) -> None:
    Practice.objects.filter(pk=practice.pk).update(time_zone=name)


def frozen_at(monkeypatch: pytest.MonkeyPatch, moment: datetime.datetime) -> None:
    """Make it ``moment`` for everything that asks django.utils.timezone what time it is."""
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_office_pages_show_times_in_their_own_practices_zone(
    alice, bob_client, practice_x, practice_y
):
    zone_set(practice_x, "America/Denver")  # practice Y keeps the server's New York
    yvonne = StaffMember.objects.select_related("user", "practice").get(user__username="yvonne")
    email_send_test(actor=actor(alice), to="x@example.com")
    email_send_test(actor=actor(yvonne), to="y@example.com")
    OutboxEmail.objects.update(created_at=LATE_IN_DENVER)

    in_denver = bob_client.get(reverse("office:outbox")).content.decode()
    assert "07/03/2026 11:30 PM" in in_denver and "1:30 AM" not in in_denver
    in_new_york = login(Client(), yvonne).get(reverse("office:outbox")).content.decode()
    assert "07/04/2026 1:30 AM" in in_new_york and "11:30 PM" not in in_new_york
    # The zone was the request's only: what runs next in this thread has the server's again.
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


def test_portal_pages_show_times_in_the_practices_zone(ada_portal, practice_x):
    zone_set(practice_x, "America/Denver")
    html = ada_portal.get(reverse("portal:logs", args=[practice_x.slug])).content.decode()
    shown = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', html)
    assert shown, "LOGS shows no times"
    for stamp, text in shown:
        moment = datetime.datetime.fromisoformat(stamp)
        assert moment.utcoffset() == moment.astimezone(DENVER).utcoffset()
        assert text == formats.date_format(moment.astimezone(DENVER), "m/d/Y g:i A")
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("America/Denver", datetime.date(2026, 7, 3)),
        ("America/New_York", datetime.date(2026, 7, 4)),
    ],
)
def test_the_api_dates_an_undated_document_by_the_practices_day(
    alice, patient_a, practice_x, monkeypatch, zone, day
):
    key = api_key_create(actor=actor(alice), name="Reception printer")[1]
    zone_set(practice_x, zone)
    frozen_at(monkeypatch, LATE_IN_DENVER)
    response = api_post(patient_a, key, description="Prescription")
    assert response.status_code == 201, response.content
    assert response.json()["date"] == day.isoformat()
    assert PortalDocument.objects.get().document_date == day


@pytest.fixture
def started(alice, patient_a, ada_portal) -> str:
    """A payment of $50.00 started in PAY BILLS; return the TEST processor's page."""
    PortalAccount.objects.filter(username="ada").update(email="ada@example.com")
    pay_bills_on(alice)
    invoice = bill(alice, patient_a)
    form = pay_form(ada_portal, invoice)
    form[f"pay-{invoice.number}-amount"] = "50"
    answer = ada_portal.post(pay_url(invoice), form)
    assert answer.status_code == 302
    return answer["Location"]


def receipt() -> str:
    return OutboxEmail.objects.get(kind="payment_receipt").body_text


@pytest.mark.parametrize(
    ("zone", "day", "other_day"),
    [
        ("America/Denver", datetime.date(2026, 7, 3), datetime.date(2026, 7, 4)),
        ("America/New_York", datetime.date(2026, 7, 4), datetime.date(2026, 7, 3)),
    ],
)
def test_the_webhooks_receipt_is_dated_the_practices_day(
    started, practice_x, monkeypatch, zone, day, other_day
):
    from clinicportal.billing.models import PaymentAttempt

    zone_set(practice_x, zone)
    frozen_at(monkeypatch, LATE_IN_DENVER)
    answer = webhook_post(Client(), confirmation(PaymentAttempt.objects.get()))
    assert answer.json() == {"status": "recorded"}
    assert f"$50.00 on {formats.date_format(day)}" in receipt()
    assert formats.date_format(other_day) not in receipt()
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


def test_the_test_processors_receipt_is_dated_the_practices_day(started, practice_x, monkeypatch):
    zone_set(practice_x, "America/Denver")
    frozen_at(monkeypatch, LATE_IN_DENVER)
    assert Client().post(started, {"action": "pay"}).status_code == 302
    assert f"$50.00 on {formats.date_format(datetime.date(2026, 7, 3))}" in receipt()
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


@pytest.mark.django_db(transaction=True)
def test_an_email_the_worker_queues_gives_times_in_the_practices_zone(ada_portal, practice_x):
    from clinicportal.accounts.models import PortalLink

    zone_set(practice_x, "America/Denver")
    Client().post(reverse("portal:forgot_password", args=[practice_x.slug]), {"identifier": "ada"})
    assert not OutboxEmail.objects.filter(kind="password_reset").exists()  # the worker's job
    run_worker()
    body = OutboxEmail.objects.get(kind="password_reset").body_text
    expires = PortalLink.objects.get(purpose=PortalLink.Purpose.RESET).expires_at
    assert f"until {formats.date_format(expires.astimezone(DENVER), 'm/d/Y g:i A')}" in body
    in_new_york = expires.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    # The whole stamp: New York's "2:00 AM" is a substring of Denver's "12:00 AM".
    assert formats.date_format(in_new_york, "m/d/Y g:i A") not in body
