"""The front desk signs a patient's portal out everywhere, on a phone (axe-core on each page)."""

from __future__ import annotations

import os

import pytest
from django.test import Client
from playwright.sync_api import expect

from clinicportal.accounts.models import PortalSession
from tests.browser.test_office_browser import sign_in
from tests.browser.test_small_screens import fits
from tests.conftest import NEW_PASSWORD, portal_login

pytestmark = pytest.mark.browser


def test_staff_sign_a_patient_out_everywhere_on_a_phone(
    make_page, axe, bob, practice_x, patient_a, ada_portal
):
    portal_login(Client(), practice_x, "ada", NEW_PASSWORD)  # a second device
    assert PortalSession.objects.count() == 2
    page = make_page(360)
    sign_in(page, axe)
    page.goto(f"/office/patients/{patient_a.public_id}/#online-portal")
    axe.check(page)
    page.get_by_role("link", name="Sign out everywhere").click()
    expect(
        page.get_by_role("heading", name="Sign Ada Lovelace out of the portal everywhere?")
    ).to_be_visible()
    expect(page.get_by_text("is signed in on 2 devices now.")).to_be_visible()
    axe.check(page)
    fits(page)
    shots = os.environ.get("SCREENSHOT_DIR")
    if shots:
        page.screenshot(path=f"{shots}/office-portal-sign-out.png", full_page=True)
    page.get_by_role("button", name="Yes, sign out everywhere").click()
    expect(
        page.get_by_text("Ada Lovelace was signed out of the portal everywhere.")
    ).to_be_visible()
    axe.check(page)
    if shots:
        page.screenshot(path=f"{shots}/office-portal-signed-out.png", full_page=True)
    assert not PortalSession.objects.exists()
