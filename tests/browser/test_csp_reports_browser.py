"""In Chromium, a script the policy stops on a portal page is reported and logged
(core/csp_reports.py). The browser context keeps the site's CSP: no bypass here."""

from __future__ import annotations

import logging

import pytest

from tests.browser.test_portal_browser import ada_portal_user
from tests.conftest import NEW_PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.usefixtures(ada_portal_user.__name__)
def test_a_script_put_into_a_page_is_stopped_and_reported(
    browser, live_server, caplog: pytest.LogCaptureFixture
):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/p/clinic-x/login/")  # pages already checked with axe-core elsewhere
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/records/")
        with (
            caplog.at_level(logging.WARNING, logger="clinicportal.core.csp_reports"),
            page.expect_request(lambda request: request.url.endswith("/csp-report")) as sent,
        ):
            ran = page.evaluate(
                """() => {
                    window.ran = false;
                    const script = document.createElement("script");
                    script.textContent = "window.ran = true";
                    document.body.append(script);
                    return window.ran;
                }"""
            )
        assert ran is False  # the policy stopped it
        assert sent.value.response().status == 204
        assert f"blocked inline on {live_server.url}/p/clinic-x/records/" in caplog.text
    finally:
        context.close()
