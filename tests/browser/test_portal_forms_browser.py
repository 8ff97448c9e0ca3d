"""A patient fills an intake form on a phone: a slip first, a draft, signs out, comes back,
signs and submits; the office finds the PDF in the chart, and it says what the screen says.
A form taken out of use while it is filled shows what was typed, to copy."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field
from clinicportal.intake.filing import answer_rows
from clinicportal.intake.models import Form, FormAssignment, Submission
from clinicportal.intake.services import form_fields_save
from tests.browser.test_office_browser import sign_in
from tests.browser.test_portal_browser import portal_sign_in
from tests.conftest import GUARDIAN_PASSWORD, NEW_PASSWORD, actor, add_guardian
from tests.test_intake import INTAKE, pdf_text
from tests.test_portal_forms import EVERY_KIND, forms_on, make_form

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(2)>"


def look(page, axe, name: str) -> None:
    """Check the page with axe-core, that nothing scrolls sideways at 360 px, and keep a picture."""
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, page.url
    shots = os.environ.get("SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(shots) / f"forms-{name}.png"), full_page=True)


def group(page, name: str):
    return page.get_by_role("group", name=re.compile(rf"^{re.escape(name)}"))


def test_the_patient_fills_saves_comes_back_and_submits(
    make_page, axe, alice, bob, patient_a, ada_portal
):
    forms_on(alice)
    form = make_form(alice, patient_a, fields=EVERY_KIND)
    page = make_page(360)
    alerts: list[str] = []

    def alerted(dialog) -> None:  # an answer's script must never run
        alerts.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", alerted)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="FORMS").click()
    expect(page.get_by_role("heading", name="Forms", exact=True)).to_be_visible()
    look(page, axe, "list")

    page.get_by_role("link", name="New patient intake").click()
    expect(page.get_by_role("heading", name="New patient intake")).to_be_visible()
    look(page, axe, "fill")
    page.get_by_label("Preferred name").fill(IMAGE)
    page.get_by_label("Date of birth").fill("last spring")  # a slip
    page.get_by_label("Eye drops a day").fill("2.5")
    group(page, "Do you wear glasses?").get_by_label("Yes").check()
    group(page, "Reason for visit").get_by_label("Problem").check()
    group(page, "Symptoms").get_by_label("Blurry").check()
    group(page, "Symptoms").get_by_label("Dry").check()
    page.get_by_label("Anything else?").fill(f"{SCRIPT}\nand {IMAGE}")
    page.get_by_role("button", name="Submit").click()
    # Told next to the date, with everything typed still there.
    expect(page.locator("#f-born-error")).to_have_text(
        "Error: Please enter a date, for example 03/14/1980."
    )
    expect(page.get_by_label("Date of birth")).to_have_value("last spring")
    expect(page.get_by_label("Preferred name")).to_have_value(IMAGE)
    expect(group(page, "Symptoms").get_by_label("Dry")).to_be_checked()
    expect(page.locator("#f-sign-error")).to_contain_text("Please type your full name")
    look(page, axe, "errors")
    page.get_by_role("link", name=re.compile("^Date of birth")).click()
    expect(page.get_by_label("Date of birth")).to_be_focused()

    page.get_by_label("Date of birth").fill("12/10/1985")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Your answers are saved as a draft.")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Log Out").click()
    expect(page.get_by_label("Username")).to_be_visible()
    axe.check(page)

    # Back another day: the draft waits, as typed.
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="FORMS").click()
    expect(page.locator(".form-status")).to_contain_text("Draft saved")
    look(page, axe, "list-draft")
    page.get_by_role("link", name="New patient intake").click()
    expect(page.get_by_label("Date of birth")).to_have_value("12/10/1985")
    expect(page.get_by_label("Anything else?")).to_have_value(f"{SCRIPT}\nand {IMAGE}")
    axe.check(page)
    page.get_by_label("Your full name").fill("Ada Lovelace")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Thank you. Your form was submitted to the office.")).to_be_visible()
    expect(page.get_by_text("Submitted by Ada Lovelace on")).to_be_visible()
    look(page, axe, "submitted")

    sent = Submission.objects.get()
    assert sent.status == Submission.Status.SUBMITTED and sent.chart_file is not None
    assert FormAssignment.objects.get(form=form).completed_at is not None
    # The screen holds every answer exactly as answer_rows says, HTML shown as text.
    rows = [(r.label, r.text) for r in answer_rows(sent) if r.kind == "answer"]
    shown = page.locator(".answers div")
    assert [
        (shown.nth(n).locator("dt").inner_text(), shown.nth(n).locator("dd").inner_text())
        for n in range(shown.count())
    ] == rows
    assert (IMAGE, f"{SCRIPT}\nand {IMAGE}") == (rows[0][1], rows[6][1])
    assert alerts == []
    # And so does the PDF in the chart, read back.
    printed = " ".join(pdf_text(sent).split())
    for label, answer in rows:
        assert " ".join(label.split()) in printed
        assert " ".join(answer.split()) in printed, answer
    assert "Submitted by Ada Lovelace on" in printed

    # The office finds it among the chart's files.
    office = make_page(360)
    sign_in(office, axe, "bob")
    office.goto(f"/office/patients/{patient_a.public_id}/#files")
    expect(office.get_by_role("link", name="New patient intake.pdf", exact=True)).to_be_visible()
    axe.check(office)


def test_a_guardian_fills_for_the_patient_through_a_change_of_the_form(
    make_page, axe, alice, patient_a
):
    forms_on(alice)
    form = make_form(alice, patient_a)
    add_guardian(alice, patient_a)
    page = make_page(360)
    portal_sign_in(page, axe, "mary", GUARDIAN_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)
    page.goto(f"/p/clinic-x/forms/{form.public_id}/")
    expect(page.get_by_text("You are filling this form for Ada Lovelace.")).to_be_visible()
    look(page, axe, "guardian")
    page.get_by_label("Preferred name").fill("Ada")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Your answers are saved as a draft.")).to_be_visible()
    axe.check(page)

    # The office adds a question while the page is open.
    added = Field("pharmacy", kinds.SHORT_TEXT, "Your pharmacy", required=True)
    form_fields_save(actor=actor(alice), form=form, fields=[*INTAKE, added])
    page.get_by_label("Date of birth").fill("12/10/1985")
    group(page, "Do you wear glasses?").get_by_label("No").check()
    page.get_by_label("Your full name").fill("Mary Lovelace")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Submit").click()
    expect(
        page.get_by_text("The office changed this form while you were filling it.")
    ).to_be_visible()
    expect(page.get_by_label("Date of birth")).to_have_value("12/10/1985")
    expect(page.get_by_label("Your full name")).to_have_value("Mary Lovelace")
    look(page, axe, "changed")
    page.get_by_label("Your pharmacy").fill("Main Street Pharmacy")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Submitted by Mary Lovelace on")).to_be_visible()
    expect(page.get_by_text("Main Street Pharmacy")).to_be_visible()
    axe.check(page)
    sent = Submission.objects.get()
    assert sent.version.number == 2 and sent.submitted_by_name == "Mary Lovelace"


def test_a_form_taken_out_of_use_while_filled_shows_what_was_typed(
    make_page, axe, alice, patient_a, ada_portal
):
    forms_on(alice)
    form = make_form(alice, patient_a)
    page = make_page(360)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)
    page.goto(f"/p/clinic-x/forms/{form.public_id}/")
    axe.check(page)
    long_line = "Latanoprost-every-evening-in-both-eyes-" * 8  # no space to break at
    page.get_by_label("Preferred name").fill(IMAGE)
    page.get_by_label("Anything else?").fill(f"{SCRIPT}\n{long_line}")
    group(page, "Symptoms").get_by_label("Dry").check()
    Form.objects.filter(pk=form.pk).update(active=False)  # the office, meanwhile
    page.get_by_role("button", name="Submit").click()
    expect(
        page.get_by_text("This form is no longer in use, so your answers could not be sent.")
    ).to_be_visible()
    answers = page.locator(".answers div")
    expect(answers.filter(has_text="Preferred name").locator("dd")).to_have_text(IMAGE)
    expect(answers.filter(has_text="Anything else?").locator("dd")).to_have_text(
        f"{SCRIPT}\n{long_line}"
    )
    expect(answers.filter(has_text="Symptoms").locator("dd")).to_have_text("Dry")
    look(page, axe, "gone")
    # The alert keeps its distance from the answers under it.
    alert = page.locator(".alert").bounding_box()
    card = page.locator(".sent-form").bounding_box()
    assert alert is not None and card is not None
    assert card["y"] - (alert["y"] + alert["height"]) >= 8
    assert not Submission.objects.exists()
    page.get_by_role("link", name="Back to your forms").click()
    expect(page.get_by_role("heading", name="Forms", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="New patient intake")).to_have_count(0)
    axe.check(page)
