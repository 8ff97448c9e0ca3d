"""Choosing the practice's time zone in Admin → Website, on a phone, with axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clinicportal.practices.models import Practice
from tests.browser.test_office_browser import sign_in
from tests.browser.test_small_screens import fits
from tests.conftest import enrol_authenticator

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("page", [360], indirect=True)
def test_an_admin_chooses_the_time_zone_on_a_phone(page, axe, alice, practice_x):
    enrol_authenticator(alice)
    sign_in(page, axe, "alice")
    page.goto("/office/settings/website/")
    axe.check(page)
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("America/New_York")
    zone.select_option(label="Mountain time (Denver)")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The practice settings were saved.")).to_be_visible()
    axe.check(page)
    fits(page)
    expect(page.get_by_label("Time zone")).to_have_value("America/Denver")
    assert Practice.objects.get(pk=practice_x.pk).time_zone == "America/Denver"
