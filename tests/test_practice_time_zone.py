"""A practice's own time zone: chosen in Admin → Website, validated, recorded in the trail."""

from __future__ import annotations

import re
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.practices.services import practice_update
from tests.conftest import actor

WEBSITE = reverse("office:settings_website")


def details(**changes: str) -> dict[str, str]:
    """Practice X's Practice details form as it stands, with ``changes``."""
    return {
        "name": "Clinic X Eye Care",
        "portal_idle_minutes": "15",
        "logs_staff_as": "office",
        "time_zone": "America/New_York",
        **changes,
    }


def updates() -> int:
    return AuditEvent.objects.filter(action=AuditEvent.Action.PRACTICE_UPDATED).count()


def test_a_new_practice_keeps_the_servers_time_zone(practice_x, settings):
    assert settings.TIME_ZONE == "America/New_York"
    assert practice_x.time_zone == "America/New_York"
    assert practice_x.zone == zoneinfo.ZoneInfo("America/New_York")


def test_admin_website_offers_the_us_zones_first_with_the_practices_chosen(
    alice_client, practice_x
):
    html = alice_client.get(WEBSITE).content.decode()
    select = re.search(r'<select name="time_zone"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None
    options = select.group(1)
    assert options.index('label="United States"') < options.index('label="All time zones"')
    assert options.index('value="America/Denver"') < options.index('value="Europe/Paris"')
    assert re.search(r'<option value="America/New_York" selected>', options)
    assert options.count('value="America/Denver"') == 1  # not again among all the others
    assert "Mountain time (Denver)" in options
    assert '<label for="id_time_zone">Time zone' in html
    assert "begins and ends at midnight here" in html  # the help text


def test_practice_details_is_one_box_not_a_box_in_a_box(alice_client, practice_x):
    html = alice_client.get(WEBSITE).content.decode()
    found = re.search(r'aria-labelledby="practice-title">(.*?)</section>', html, re.S)
    assert found is not None and 'name="time_zone"' in found.group(1)
    assert 'class="card' not in found.group(1)  # the section is its box already


def test_an_admin_chooses_the_practices_time_zone(alice_client, practice_x):
    before = updates()
    response = alice_client.post(WEBSITE, details(time_zone="America/Denver"))
    assert response.status_code == 302
    practice_x.refresh_from_db()
    assert practice_x.time_zone == "America/Denver"
    assert practice_x.zone == zoneinfo.ZoneInfo("America/Denver")
    assert updates() == before + 1
    html = alice_client.get(WEBSITE).content.decode()
    assert re.search(r'<option value="America/Denver" selected>', html)


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "localtime", "america/denver", ""])
def test_a_name_that_is_not_a_time_zone_is_refused_and_nothing_changes(
    alice_client, practice_x, bad
):
    before = updates()
    response = alice_client.post(WEBSITE, details(name="Renamed", time_zone=bad))
    assert response.status_code == 200
    html = response.content.decode()
    if bad:
        assert f"“{bad}” is not a time zone name. Please choose one from the list." in html
    else:
        assert "Please choose the practice’s time zone." in html
    assert 'id="id_time_zone_error"' in html  # next to the field, not only at the top
    practice_x.refresh_from_db()
    assert (practice_x.name, practice_x.time_zone) == ("Clinic X Eye Care", "America/New_York")
    assert updates() == before


def test_the_service_refuses_a_name_that_is_not_a_time_zone(alice, practice_x):
    before = updates()
    with pytest.raises(ValidationError) as refused:
        practice_update(
            actor=actor(alice),
            name="Clinic X Eye Care",
            address="",
            phone="",
            forms_enabled=False,
            schedule_enabled=False,
            pay_bills_enabled=False,
            portal_idle_minutes=15,
            logs_staff_as="office",
            time_zone="Atlantis/Capital",
        )
    assert refused.value.message_dict["time_zone"] == [
        "“Atlantis/Capital” is not a time zone name. Choose one such as America/Denver."
    ]
    practice_x.refresh_from_db()
    assert practice_x.time_zone == "America/New_York"
    assert updates() == before


def test_staff_who_are_not_admins_cannot_change_the_time_zone(bob_client, practice_x):
    response = bob_client.post(WEBSITE, details(time_zone="America/Denver"))
    assert response.status_code == 403
    practice_x.refresh_from_db()
    assert practice_x.time_zone == "America/New_York"
