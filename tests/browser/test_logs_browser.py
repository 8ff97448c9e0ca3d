"""LOGS in the browser: the office's reading shows, named the way the practice chose."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clinicportal.patients.services import patient_record_view
from clinicportal.records.services import portal_document_open_in_office
from tests.browser.test_office_browser import sign_in as staff_sign_in
from tests.browser.test_portal_browser import portal_sign_in
from tests.conftest import NEW_PASSWORD, actor, add_chart_pdf, enrol_authenticator, portal_login

pytestmark = pytest.mark.browser


@pytest.fixture
def visit_summary(bob, patient_a):
    from clinicportal.records.services import portal_document_share_chart_file

    chart_file = add_chart_pdf(bob, patient_a, "visit.pdf", description="Visit summary")
    return portal_document_share_chart_file(
        actor=actor(bob),
        chart_file=chart_file,
        document_date=chart_file.document_date,
        description="Visit summary",
        is_education=False,
    )


def test_the_patient_sees_which_record_the_office_viewed(
    make_page, axe, client, alice, bob, patient_a, issue_access, visit_summary, practice_x
):
    username, temporary = issue_access(patient_a, "ada")
    portal_login(client, practice_x, username, temporary)
    client.post(
        "/p/clinic-x/password/", {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    portal_document_open_in_office(actor=actor(bob), document=visit_summary)
    patient_record_view(actor=actor(bob), patient=patient_a)

    enrol_authenticator(alice)
    office = make_page(360)
    staff_sign_in(office, axe, "alice")
    office.goto("/office/settings/website/")
    axe.check(office)
    expect(office.get_by_label("“The office viewed …”")).to_be_checked()
    office.get_by_label("The staff member’s name").check()
    office.get_by_role("button", name="Save").click()
    expect(office.get_by_text("The practice settings were saved.")).to_be_visible()
    axe.check(office)

    patient = make_page(360)
    portal_sign_in(patient, axe, "ada", NEW_PASSWORD)
    expect(patient.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(patient)
    patient.get_by_role("link", name="LOGS").click()
    expect(patient.get_by_role("heading", name="Portal access log")).to_be_visible()
    axe.check(patient)
    log = patient.locator("table.logs")
    expect(log.get_by_text("Bob Front Desk viewed “Visit summary”", exact=True)).to_be_visible()
    expect(log.get_by_text("Bob Front Desk viewed the chart", exact=True)).to_be_visible()
    assert patient.evaluate("() => document.documentElement.scrollWidth") <= 360
