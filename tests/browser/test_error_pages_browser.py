"""Error pages in a browser at 360 px: the site's frame, landmarks, a way back, no axe findings."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_office_browser import sign_in
from tests.browser.test_small_screens import fits

pytestmark = pytest.mark.browser


def check(page, axe, heading: str, back: str) -> None:
    axe.check(page)
    fits(page)
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    expect(page.get_by_role("banner")).to_be_visible()
    expect(page.get_by_role("main")).to_be_visible()
    expect(page.get_by_role("link", name=back)).to_be_visible()


@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize("page", [360], indirect=True)
def test_error_pages_have_the_frame_and_a_way_back_on_a_phone(page, axe, bob, practice_x):
    for path, back in [
        ("/no-such-page", "Staff: go to the office sign-in"),
        ("/p/clinic-x/no-such-page/", "Go to your patient portal"),
    ]:
        page.goto(path)
        check(page, axe, "Page not found", back)
    page.goto("/broken/")
    check(page, axe, "Something went wrong on our side", "Staff: go to the office sign-in")

    sign_in(page, axe)
    page.goto("/office/no-such-page/")
    check(page, axe, "Page not found", "Go to the office home page")
    page.goto("/office/settings/website/")
    check(page, axe, "You cannot open this page", "Go to the office home page")
    page.get_by_role("link", name="Go to the office home page").click()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    axe.check(page)
