"""The lists of signed-in devices on My account (office) and ACCOUNT (portal), in a browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_office_browser import sign_in as staff_sign_in
from tests.browser.test_portal_browser import portal_sign_in
from tests.conftest import NEW_PASSWORD, PASSWORD

pytestmark = pytest.mark.browser


def test_staff_see_their_devices_and_sign_one_out(make_page, axe, bob):
    phone = make_page(360)
    staff_sign_in(phone, axe)
    desk = make_page()
    staff_sign_in(desk, axe)
    desk.goto("/office/account/")
    sessions = desk.locator("table.sessions")
    expect(sessions.get_by_text("This device", exact=True)).to_be_visible()
    axe.check(desk)
    # The password first: a wrong one comes back next to its field, and signs nothing out.
    sessions.get_by_label("Your password").fill("not-my-password")
    sessions.get_by_role("button", name="Sign out this device").click()
    field = desk.locator("table.sessions").get_by_label("Your password")
    # Described by the device's name, then the error.
    expect(field).to_have_accessible_description(
        re.compile(r"\S.* on \S.*That is not your current password\.")
    )
    axe.check(desk)
    field.fill(PASSWORD)
    desk.locator("table.sessions").get_by_role("button", name="Sign out this device").click()
    expect(desk.get_by_text("That device is signed out.")).to_be_visible()
    axe.check(desk)
    phone.goto("/office/account/")
    expect(phone.get_by_text("You were signed out. Please sign in again.")).to_be_visible()
    axe.check(phone)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360


def test_a_patient_sees_their_devices_and_signs_out_everywhere(make_page, axe, ada_portal):
    phone = make_page(360)
    portal_sign_in(phone, axe, "ada", NEW_PASSWORD)
    expect(phone.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(phone)
    phone.goto("/p/clinic-x/account/")
    expect(phone.get_by_role("heading", name="Where you are signed in")).to_be_visible()
    axe.check(phone)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
    everywhere = phone.locator("form", has=phone.get_by_role("button", name="Sign out everywhere"))
    everywhere.get_by_label("Your password").fill("not-my-password")
    everywhere.get_by_role("button", name="Sign out everywhere").click()
    expect(phone.get_by_text("That is not your current password.")).to_be_visible()
    axe.check(phone)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
    everywhere.get_by_label("Your password").fill(NEW_PASSWORD)
    everywhere.get_by_role("button", name="Sign out everywhere").click()
    expect(phone.get_by_text("You were signed out on every device, this one too.")).to_be_visible()
    axe.check(phone)


def test_the_portal_device_list_fits_its_narrow_page_on_a_wide_screen(make_page, axe, ada_portal):
    """ACCOUNT is a narrow page: on a wide screen its device list turns into cards, as on a
    phone, instead of running out of its section; a row's Sign out needs no label of its own."""
    phone = make_page(360)
    portal_sign_in(phone, axe, "ada", NEW_PASSWORD)
    axe.check(phone)
    desk = make_page(1280)
    portal_sign_in(desk, axe, "ada", NEW_PASSWORD)
    axe.check(desk)
    desk.goto("/p/clinic-x/account/")
    axe.check(desk)
    section = desk.locator(
        "section", has=desk.get_by_role("heading", name="Where you are signed in")
    )
    table, box = section.locator("table.sessions"), section.bounding_box()
    assert table.bounding_box()["x"] + table.bounding_box()["width"] <= box["x"] + box["width"]
    other = table.locator("tr", has=desk.get_by_role("button", name="Sign out this device")).first
    expect(other.get_by_label("Your password")).to_be_visible()
    assert "Sign out:" not in other.inner_text()
    phone.goto("/p/clinic-x/account/")
    axe.check(phone)
    assert "Sign out:" not in phone.locator("table.sessions").inner_text()
