"""A form that comes back refused puts the focus on what says why (errors.js)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_portal_browser import portal_sign_in
from tests.conftest import NEW_PASSWORD

pytestmark = pytest.mark.browser

FOCUSED = "() => document.activeElement"


def test_a_refused_form_focuses_its_problems_then_its_wrong_field(make_page, axe, ada_portal):
    page = make_page(360)
    portal_sign_in(page, axe, "ada", "not-the-password")
    box = page.locator(".form-errors")
    expect(box).to_be_visible()
    expect(box).to_be_focused()  # read out first, not the page's top
    axe.check(page)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)
    assert page.evaluate(f"{FOCUSED}.tagName") == "BODY"  # nothing refused: left alone
    page.goto("/p/clinic-x/account/")
    axe.check(page)
    everywhere = page.locator("form", has=page.get_by_role("button", name="Sign out everywhere"))
    everywhere.get_by_label("Your password").fill("not-my-password")
    everywhere.get_by_role("button", name="Sign out everywhere").click()
    expect(page.get_by_text("That is not your current password.")).to_be_visible()
    axe.check(page)
    # No box of problems for this form: its field, marked wrong, has the focus.
    field = page.locator("form", has=page.get_by_role("button", name="Sign out everywhere"))
    expect(field.get_by_label("Your password")).to_be_focused()
