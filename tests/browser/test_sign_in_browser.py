"""A wrong password, seen in a browser: the fields say they are wrong, and say why."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_small_screens import fits

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("page", [360], indirect=True)
@pytest.mark.parametrize("url", ["/office/login/", "/p/clinic-x/login/"], ids=["office", "portal"])
def test_a_wrong_password_is_tied_to_both_fields(page, axe, alice, url):
    page.goto(url)
    axe.check(page)
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    axe.check(page)
    fits(page)
    for label in ("Username", "Password"):
        field = page.get_by_label(label)
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_accessible_description(
            "That username and password do not match. Please check them and try again."
        )
