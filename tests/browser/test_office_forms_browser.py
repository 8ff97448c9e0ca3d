"""Forms in the office, on a phone: an admin builds a form with the keyboard; the front desk
assigns it (and withdraws one assigned by mistake), reads what came back, and makes a missing
PDF again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clinicportal.intake.models import Form, FormAssignment, FormVersion, Submission
from tests.browser.test_office_browser import sign_in
from tests.conftest import enrol_authenticator

pytestmark = pytest.mark.browser


def look(page, axe, name: str) -> None:
    """Check the page with axe-core, that nothing scrolls sideways at 360 px, and keep a picture."""
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, page.url
    shots = os.environ.get("SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"forms-{name}.png"), full_page=True)


@pytest.mark.parametrize("page", [360], indirect=True)
def test_an_admin_builds_a_form_on_a_phone(page, axe, alice):
    enrol_authenticator(alice)
    sign_in(page, axe, "alice")
    page.get_by_role("link", name="Admin").click()
    axe.check(page)
    page.get_by_role("link", name="Forms", exact=True).click()
    expect(page.get_by_text("No forms yet.")).to_be_visible()
    look(page, axe, "list-empty")
    page.get_by_role("link", name="New form").click()
    look(page, axe, "new")
    page.get_by_label("Name").fill("New patient intake")
    page.get_by_label("Kind").select_option("intake")
    page.get_by_role("button", name="Make the form").click()
    expect(page.get_by_text("“New patient intake” was made. Now add its fields.")).to_be_visible()
    look(page, axe, "empty")

    # A choice with one choice first: the problem is shown by the field, nothing is saved.
    new = page.get_by_role("group", name="Add a field")
    new.get_by_label("Kind of field").select_option("single_choice")
    new.get_by_label("Question").fill("Reason for visit")
    new.get_by_label("Choices, one a line").fill("Check-up")
    page.get_by_role("button", name="Add field").click()
    expect(
        page.get_by_text("Nothing was saved. Please correct the problems shown below.")
    ).to_be_visible()
    choices = new.get_by_label("Choices, one a line")
    expect(choices).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_new-choices_error")).to_have_text(
        "Please give at least two choices, one a line."
    )
    expect(new.get_by_label("Question")).to_have_value("Reason for visit")
    look(page, axe, "add-error")
    assert FormVersion.objects.get().fields == []

    # Corrected with the keyboard only: the choices, then Tab to "Add field" and Enter.
    choices.fill("Check-up\nA problem")
    choices.focus()
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "Add field":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_text("“Reason for visit” was added.")).to_be_visible()
    axe.check(page)

    new.get_by_label("Kind of field").select_option("heading")
    new.get_by_label("Question").fill("About your visit")
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_text("“About your visit” was added.")).to_be_visible()
    axe.check(page)
    new.get_by_label("Kind of field").select_option("signature")
    new.get_by_label("Question").fill("I agree to be treated")
    new.get_by_label("An answer is required").check()
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_role("group", name="Field 3: Signature")).to_be_visible()
    axe.check(page)

    # The heading goes first: "Move up" on field 2, twice, from the keyboard.
    page.get_by_role("button", name="Move up field 2").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("“About your visit” was moved up.")).to_be_visible()
    expect(page.get_by_role("group", name="Field 1: Section heading")).to_be_visible()
    axe.check(page)
    # Enter in a text box saves: it never moves or removes a field.
    page.get_by_label("Heading", exact=True).fill("About you")
    page.get_by_label("Heading", exact=True).press("Enter")
    expect(page.get_by_text("The fields were saved.")).to_be_visible()
    look(page, axe, "builder")
    form = Form.objects.get()
    assert [(f["kind"], f["label"]) for f in FormVersion.objects.get(form=form).fields] == [
        ("heading", "About you"),
        ("single_choice", "Reason for visit"),
        ("signature", "I agree to be treated"),
    ]

    page.get_by_role("link", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview: New patient intake")).to_be_visible()
    expect(page.get_by_label("Check-up")).to_be_disabled()
    expect(page.get_by_label("I agree", exact=True)).to_be_disabled()
    look(page, axe, "preview")
    page.get_by_role("link", name="← New patient intake").click()
    axe.check(page)
    page.get_by_role("link", name="← Forms").click()
    expect(page.get_by_role("link", name="New patient intake")).to_be_visible()
    look(page, axe, "list")


@pytest.mark.parametrize("page", [360], indirect=True)
def test_the_front_desk_assigns_a_form_and_reads_what_came_back(
    page, axe, bob, alice, patient_a, monkeypatch
):
    from tests.conftest import actor
    from tests.schedule_setup import patient_actor
    from tests.test_intake import GOOD, INTAKE, Posted
    from tests.test_office_forms_submissions import forms_on, make_form
    from tests.upload_faults import full_disk

    forms_on(alice)
    intake = make_form(alice, "New patient intake")
    make_form(alice, "Consent to treat", fields=INTAKE[:2])
    from clinicportal.intake.services import form_assign, submission_submit

    form_assign(actor=actor(alice), form=intake, patient=patient_a)
    with monkeypatch.context() as patch:
        full_disk(patch, room=1_000)  # the PDF cannot be made when it is submitted
        submission_submit(
            actor=patient_actor(alice, patient_a),
            form=intake,
            version_number=1,
            posted=Posted(GOOD),
        )

    sign_in(page, axe)
    page.goto(f"/office/patients/{patient_a.public_id}/")
    axe.check(page)
    page.get_by_role("navigation", name="Patient sections").get_by_role(
        "link", name="Forms"
    ).click()
    page.get_by_label("Form to assign").select_option(label="Consent to treat")
    page.get_by_role("button", name="Assign form").click()
    expect(page.get_by_text("“Consent to treat” was assigned to Ada Lovelace")).to_be_visible()
    expect(page.locator(".forms-waiting")).to_contain_text("Consent to treat")
    look(page, axe, "patient")
    assert FormAssignment.objects.filter(completed_at__isnull=True).count() == 1

    # Assigned by mistake: withdrawn, after a page that asks.
    page.get_by_role("link", name="Withdraw Consent to treat").click()
    expect(
        page.get_by_role("heading", name="Withdraw “Consent to treat” from Ada Lovelace?")
    ).to_be_visible()
    look(page, axe, "withdraw")
    page.get_by_role("button", name="Yes, withdraw").click()
    expect(
        page.get_by_text("“Consent to treat” was withdrawn: Ada no longer sees it under FORMS.")
    ).to_be_visible()
    expect(page.get_by_text("No forms are waiting for Ada.")).to_be_visible()
    look(page, axe, "withdrawn")
    assert not FormAssignment.objects.filter(completed_at__isnull=True).exists()

    page.get_by_role("navigation", name="Office").get_by_role("link", name="Forms").click()
    expect(page.get_by_role("heading", name="Submitted forms")).to_be_visible()
    expect(page.locator(".submissions")).to_contain_text("Not made")
    look(page, axe, "submissions")
    page.locator(".submissions tbody th a").first.click()
    expect(page.get_by_role("heading", name="New patient intake")).to_be_visible()
    expect(page.get_by_text("The PDF of this form is not in the chart.")).to_be_visible()
    # Planted HTML reads as text.
    expect(
        page.get_by_text("<script>alert(1)</script> and <img src=x onerror=alert(2)>")
    ).to_be_visible()
    look(page, axe, "submission-no-pdf")
    page.get_by_role("button", name="Make the PDF again").click()
    expect(page.get_by_text("The PDF was made and is in the patient’s chart.")).to_be_visible()
    look(page, axe, "submission")
    assert Submission.objects.get(status="submitted").chart_file is not None
    page.get_by_role("link", name="New patient intake.pdf").click()
    expect(page.get_by_role("heading", name="New patient intake.pdf")).to_be_visible()
    axe.check(page)
