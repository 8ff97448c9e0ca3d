"""Payments of the day: today, the day's bounds and the times are the practice's own."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from clinicportal.billing import services
from clinicportal.billing.models import Payment
from clinicportal.billing.selectors import payments_on
from clinicportal.practices.models import StaffMember
from tests.conftest import actor
from tests.test_office_invoices import make

DENVER = zoneinfo.ZoneInfo("America/Denver")
PAYMENTS = reverse("office:payments_day")
JULY_2, JULY_3, JULY_4 = (datetime.date(2026, 7, day) for day in (2, 3, 4))


@pytest.fixture
def denver_bob(bob, practice_x) -> StaffMember:
    """Bob, at practice X moved to Denver (two hours behind the server's New York)."""
    practice_x.time_zone = "America/Denver"
    practice_x.save(update_fields=["time_zone"])
    return StaffMember.objects.select_related("user", "practice").get(pk=bob.pk)


def paid_at(member: StaffMember, patient, moment: datetime.datetime, cents: int = 100) -> Payment:
    invoice = make(member, patient, finalized=True)
    return services.payment_record(
        actor=actor(member),
        invoice=invoice,
        method="cash",
        amount_cents=cents,
        received_at=moment,
    )


def denver(
    day: datetime.date, hour: int, minute: int, second: int = 0, micro: int = 0
) -> datetime.datetime:
    """A moment by the clock on a Denver wall."""
    return datetime.datetime.combine(day, datetime.time(hour, minute, second, micro), DENVER)


def test_a_payment_at_half_past_eleven_at_night_is_on_that_days_list(
    denver_bob, bob_client, patient_a
):
    paid_at(denver_bob, patient_a, denver(JULY_3, 23, 30), cents=4_250)
    # It is already July 4th, 1:30 AM, in New York (the server's zone) and in UTC.
    that_day = bob_client.get(PAYMENTS, {"day": "2026-07-03"}).content.decode()
    assert "11:30 PM" in that_day and "$42.50" in that_day
    next_day = bob_client.get(PAYMENTS, {"day": "2026-07-04"}).content.decode()
    assert "No payments were received on this day." in next_day
    assert "$42.50" not in next_day


def test_the_days_bounds_are_the_practices_midnights(denver_bob, patient_a):
    last = paid_at(denver_bob, patient_a, denver(JULY_3, 23, 59, 59, 999_999))
    first = paid_at(denver_bob, patient_a, denver(JULY_4, 0, 0))
    before = paid_at(denver_bob, patient_a, denver(JULY_2, 23, 59, 59, 999_999))
    on_3rd = list(payments_on(actor=actor(denver_bob), day=JULY_3))
    on_4th = list(payments_on(actor=actor(denver_bob), day=JULY_4))
    assert on_3rd == [last] and on_4th == [first] and before not in on_3rd


def test_the_bounds_are_the_practices_whatever_zone_is_active(denver_bob, patient_a):
    payment = paid_at(denver_bob, patient_a, denver(JULY_3, 23, 30))
    with timezone.override(zoneinfo.ZoneInfo("UTC")):
        on_3rd = list(payments_on(actor=actor(denver_bob), day=JULY_3))
    assert on_3rd == [payment]


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (datetime.date(2026, 3, 8), 23),  # the clocks go forward at 2 AM
        (datetime.date(2026, 11, 1), 25),  # the clocks go back at 2 AM
    ],
)
def test_a_day_when_the_clocks_change_keeps_all_its_hours(denver_bob, patient_a, day, hours):
    midnight = datetime.datetime.combine(day, datetime.time.min, tzinfo=DENVER)
    late = datetime.datetime.combine(day, datetime.time(23, 30), tzinfo=DENVER)
    assert late.astimezone(datetime.UTC) - midnight.astimezone(datetime.UTC) == (
        datetime.timedelta(hours=hours - 1, minutes=30)
    )
    early = paid_at(denver_bob, patient_a, midnight + datetime.timedelta(minutes=30))
    at_night = paid_at(denver_bob, patient_a, late)
    next_morning = paid_at(denver_bob, patient_a, late + datetime.timedelta(hours=1))
    found = list(payments_on(actor=actor(denver_bob), day=day))
    assert found == [early, at_night]
    next_day = day + datetime.timedelta(days=1)
    assert list(payments_on(actor=actor(denver_bob), day=next_day)) == [next_morning]


@pytest.mark.parametrize(
    ("zone", "today"),
    [("America/Denver", "07/03/2026"), ("America/New_York", "07/04/2026")],
)
def test_today_is_the_practices_today(
    bob, bob_client, patient_a, practice_x, monkeypatch, zone, today
):
    practice_x.time_zone = zone
    practice_x.save(update_fields=["time_zone"])
    bob = StaffMember.objects.select_related("user", "practice").get(pk=bob.pk)
    # 05:30 UTC: 11:30 PM on July 3rd in Denver, 1:30 AM on July 4th in New York.
    moment = datetime.datetime(2026, 7, 4, 5, 30, tzinfo=datetime.UTC)
    paid_at(bob, patient_a, moment, cents=4_250)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    html = bob_client.get(PAYMENTS).content.decode()
    assert f"<h1>Payments received on {today}</h1>" in html
    assert "$42.50" in html  # received at the practice's today, whichever day that is
    assert ">Today</a>" not in html  # no link to today: this is today


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_calendars_first_and_last_days_show_today_instead(bob_client, day):
    response = bob_client.get(PAYMENTS, {"day": day})
    assert response.status_code == 200
    assert "That is not a date, so today’s payments are shown." in response.content.decode()
