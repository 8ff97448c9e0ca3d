"""The office and the portal at hosts of their own, in a real browser: the live server answers
as the office at localhost and as the portal at 127.0.0.1, two origins to the browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_office_browser import sign_in
from tests.conftest import NEW_PASSWORD

pytestmark = pytest.mark.browser


def test_each_door_at_its_own_host_keeps_its_session_from_the_others_pages(
    make_page, axe, settings, live_server, bob, practice_x, ada_portal
):
    office = live_server.url
    assert "//localhost:" in office
    portal = office.replace("//localhost:", "//127.0.0.1:")
    settings.CLINICPORTAL_OFFICE_URL = office
    settings.CLINICPORTAL_BASE_URL = portal
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

    page = make_page()
    sign_in(page, axe)
    # A bookmark from before the split: sent to the office's host, still signed in there.
    page.goto(f"{portal}/office/patients/")
    expect(page).to_have_url(f"{office}/office/patients/")
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    axe.check(page)

    page.goto(f"{office}/p/{practice_x.slug}/login/")
    expect(page).to_have_url(f"{portal}/p/{practice_x.slug}/login/")
    axe.check(page)
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"^{re.escape(portal)}/p/"))
    axe.check(page)

    # Two hosts, two cookies: the office's session is never sent to the portal's host ...
    cookies = {
        host: {c["name"]: c["value"] for c in page.context.cookies(host)}
        for host in (office, portal)
    }
    assert cookies[office]["sessionid"] != cookies[portal]["sessionid"]
    # ... and a script on a portal page cannot read an office page, by either address.
    for address in ("/office/patients/", f"{office}/office/patients/"):
        read = page.evaluate(
            """address => fetch(address, {credentials: "include"})
                .then(answer => answer.text(), error => "refused: " + error.name)""",
            address,
        )
        assert read == "refused: TypeError", read[:200]
