"""The front desk signs a patient's portal out everywhere, or turns off its two-step sign-in,
on a phone (axe-core on each page)."""

from __future__ import annotations

import os

import pytest
from django.test import Client
from playwright.sync_api import expect

from clinicportal.accounts.models import PortalAccount, PortalSession, TwoFactorDevice
from tests.browser.test_office_browser import sign_in
from tests.browser.test_small_screens import fits
from tests.conftest import NEW_PASSWORD, portal_login

pytestmark = pytest.mark.browser


def confirm_on_a_phone(make_page, axe, patient, *, link: str, question: str, button: str):
    """Sign in on a 360 px screen, follow ``link`` from the patient's Online Portal, see the
    confirmation ask ``question`` (it fits, axe finds nothing), press ``button``; the page."""
    page = make_page(360)
    sign_in(page, axe)
    page.goto(f"/office/patients/{patient.public_id}/#online-portal")
    axe.check(page)
    page.get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", name=question)).to_be_visible()
    axe.check(page)
    fits(page)
    shots = os.environ.get("SCREENSHOT_DIR")
    if shots:
        name = link.lower().replace(" ", "-")
        page.screenshot(path=f"{shots}/office-portal-{name}.png", full_page=True)
    page.get_by_role("button", name=button).click()
    return page


def test_staff_sign_a_patient_out_everywhere_on_a_phone(
    make_page, axe, bob, practice_x, patient_a, ada_portal
):
    portal_login(Client(), practice_x, "ada", NEW_PASSWORD)  # a second device
    assert PortalSession.objects.count() == 2
    page = confirm_on_a_phone(
        make_page,
        axe,
        patient_a,
        link="Sign out everywhere",
        question="Sign Ada Lovelace out of the portal everywhere?",
        button="Yes, sign out everywhere",
    )
    expect(
        page.get_by_text("Ada Lovelace was signed out of the portal everywhere.")
    ).to_be_visible()
    axe.check(page)
    assert not PortalSession.objects.exists()


def test_staff_turn_off_a_patients_two_step_sign_in_on_a_phone(
    make_page, axe, bob, patient_a, ada_portal
):
    TwoFactorDevice.objects.create(
        portal_account=PortalAccount.objects.get(username="ada"),
        secret="A" * 32,
        confirmed_at="2026-11-01T00:00Z",
    )
    page = confirm_on_a_phone(
        make_page,
        axe,
        patient_a,
        link="Turn off two-step sign-in",
        question="Turn off two-step sign-in for Ada Lovelace?",
        button="Yes, turn it off",
    )
    expect(
        page.get_by_text("Two-step sign-in is off for Ada Lovelace, who was told by email.")
    ).to_be_visible()
    axe.check(page)
    assert not TwoFactorDevice.objects.filter(portal_account__isnull=False).exists()
