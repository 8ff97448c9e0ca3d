"""Assign File From Other Patient and sharing a file twice, on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clinicportal.records.models import PortalDocument
from clinicportal.records.services import portal_document_share_chart_file
from tests.browser.test_office_browser import sign_in as staff_sign_in
from tests.conftest import PDF_BYTES, actor, add_chart_pdf

pytestmark = pytest.mark.browser


def on_portal(member, patient, description: str, *, education: bool, data: bytes):
    chart_file = add_chart_pdf(member, patient, f"{description}.pdf", description, data=data)
    portal_document_share_chart_file(
        actor=actor(member),
        chart_file=chart_file,
        document_date=chart_file.document_date,
        description=description,
        is_education=education,
    )
    return chart_file


def test_a_personal_record_of_another_patient_needs_a_confirmation(
    make_page, axe, bob, patient_a, patient_b
):
    on_portal(bob, patient_b, "About glaucoma", education=True, data=PDF_BYTES + b"e")
    on_portal(bob, patient_b, "Visit summary", education=False, data=PDF_BYTES + b"p")
    office = make_page(360)
    staff_sign_in(office, axe)
    office.goto(f"/office/patients/{patient_a.public_id}/portal/documents/assign-other/")
    axe.check(office)
    office.get_by_label("Find the other patient by name, date of birth or phone").fill("pascal")
    office.get_by_role("button", name="Find").click()
    axe.check(office)
    office.get_by_role("link", name="Pascal, Blaise").click()
    expect(office.get_by_label("About glaucoma")).to_be_visible()
    expect(office.get_by_text("Visit summary")).to_have_count(0)
    axe.check(office)
    office.get_by_role("link", name="Show Blaise Pascal’s personal records too (1)").click()
    axe.check(office)
    office.get_by_label("Visit summary").check()
    office.get_by_role("button", name="Continue").click()
    expect(office.get_by_text("“Visit summary” holds Blaise Pascal’s information.")).to_be_visible()
    expect(office.get_by_label("Education resource")).not_to_be_checked()
    axe.check(office)
    office.get_by_role("button", name="Assign File").click()
    expect(
        office.get_by_text("Please confirm that Ada Lovelace may see Blaise Pascal’s information.")
    ).to_be_visible()
    axe.check(office)
    assert not PortalDocument.objects.filter(patient=patient_a).exists()
    office.get_by_label(
        "I have checked that Ada Lovelace may see Blaise Pascal’s information."
    ).check()
    office.get_by_role("button", name="Assign File").click()
    expect(office.get_by_text("“Visit summary.pdf” is on Ada’s portal.")).to_be_visible()
    axe.check(office)
    assert office.evaluate("() => document.documentElement.scrollWidth") <= 360


def test_sharing_a_file_already_on_the_portal_asks_first(make_page, axe, bob, patient_a):
    chart_file = on_portal(bob, patient_a, "Visit summary", education=False, data=PDF_BYTES)
    office = make_page(360)
    staff_sign_in(office, axe)
    office.goto(f"/office/patients/{patient_a.public_id}/files/{chart_file.public_id}/share/")
    axe.check(office)
    office.get_by_role("button", name="Share to portal").click()
    expect(office.get_by_text("This file is already on Ada’s portal")).to_be_visible()
    axe.check(office)
    assert PortalDocument.objects.count() == 1
    office.get_by_role("button", name="Share it again").click()
    expect(office.get_by_text("“Visit summary.pdf” is on Ada’s portal.")).to_be_visible()
    axe.check(office)
    assert PortalDocument.objects.count() == 2
