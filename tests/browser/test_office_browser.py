"""A person at the front desk: signs in, adds a patient, uploads a chart file, previews it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clinicportal.patients.models import ChartFile, Patient
from tests.conftest import (
    PASSWORD,
    PDF_BYTES,
    authenticator_code,
    enrol_authenticator,
    office_code,
    png_bytes,
)

pytestmark = pytest.mark.browser


def sign_in(page, axe, username: str = "bob") -> None:
    """Sign in through the office's pages: the password, then the code every staff member gives.

    A staff member without an authenticator is given one first (enrolling is tested apart).
    """
    from clinicportal.practices.models import StaffMember

    code = office_code(StaffMember.objects.select_related("user").get(user__username=username))
    page.goto("/office/login/")
    axe.check(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/office/login/code/$"))
    axe.check(page)
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    axe.check(page)


def test_staff_sign_in_and_add_a_patient(page, axe, bob):
    sign_in(page, axe)
    page.get_by_role("link", name="Add patient").click()
    axe.check(page)
    # A mistake first: the form says what is wrong and keeps what was typed.
    page.get_by_label("First name").fill("Rosalind")
    page.get_by_role("button", name="Add patient").click()
    expect(page.locator(".form-errors")).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("Rosalind")
    axe.check(page)
    page.get_by_label("Last name").fill("Franklin")
    page.get_by_label("Date of birth").fill("1920-07-25")
    page.get_by_label("Phone").fill("(207) 555-0120")
    page.get_by_role("button", name="Add patient").click()
    expect(page.get_by_role("heading", name="Rosalind Franklin")).to_be_visible()
    axe.check(page)
    assert Patient.objects.filter(last_name="Franklin", practice=bob.practice).exists()
    page.get_by_role("link", name="← Patients").click()
    page.get_by_label("Search by name, date of birth or phone").fill("frank")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Franklin, Rosalind")).to_be_visible()
    assert "?s=" in page.url and "frank" not in page.url.lower()  # the terms were posted
    expect(page.get_by_label("Search by name, date of birth or phone")).to_have_value("frank")
    axe.check(page)
    # By the end of her number, without its area code, as the field's help says.
    search = page.get_by_label("Search by name, date of birth or phone")
    expect(search).to_have_accessible_description(re.compile(r"a number's last digits"))
    search.fill("555-0120")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Franklin, Rosalind")).to_be_visible()
    axe.check(page)


def test_upload_shows_progress_then_the_file_previews_inline(
    page, axe, bob, patient_a, tmp_path: Path
):
    big = tmp_path / "Field test.pdf"
    big.write_bytes(PDF_BYTES + b"%" + b"0" * (3 * 1024 * 1024))
    sign_in(page, axe)
    page.goto(f"/office/patients/{patient_a.public_id}/")
    axe.check(page)
    page.get_by_role("link", name="Upload files").click()
    axe.check(page)
    page.get_by_label("Files").set_input_files(str(big))
    page.get_by_label("Description").fill("Visual field test")
    # Slow the upload down like a clinic's connection so the progress bar can be seen.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 1_000_000},
    )
    page.get_by_role("button", name="Upload").click()
    progress = page.locator("progress#upload-progress")
    expect(progress).to_be_visible()
    page.wait_for_function(
        "() => { const v = document.querySelector('#upload-progress').value;"
        " return v > 0 && v < 100; }"
    )
    axe.check(page)
    page.wait_for_url(
        re.compile(rf"/office/patients/{patient_a.public_id}/(#files)?$"), timeout=30_000
    )
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    expect(page.get_by_text("1 file added to the chart.")).to_be_visible()
    axe.check(page)
    chart_file = ChartFile.objects.get(patient=patient_a)
    assert chart_file.blob.size == big.stat().st_size

    with page.expect_response(re.compile(r"/inline$")) as inline:
        page.get_by_role("link", name="Field test.pdf", exact=True).click()
    assert inline.value.status == 200
    assert inline.value.headers["content-type"] == "application/pdf"
    expect(page.locator("iframe.preview-frame")).to_be_visible()
    expect(page.get_by_role("heading", name="Field test.pdf")).to_be_visible()
    axe.check(page)


def test_a_refused_upload_says_why_in_place(page, axe, bob, patient_a, tmp_path: Path):
    bad = tmp_path / "setup.pdf"
    bad.write_bytes(b"MZ\x90\x00 not a pdf at all")
    sign_in(page, axe)
    page.goto(f"/office/patients/{patient_a.public_id}/files/upload/")
    axe.check(page)
    page.get_by_label("Files").set_input_files(str(bad))
    page.get_by_role("button", name="Upload").click()
    expect(
        page.get_by_text("“setup.pdf” is named .pdf but it is a Windows program")
    ).to_be_visible()
    expect(page.locator(".form-errors")).to_be_focused()
    axe.check(page)
    assert not ChartFile.objects.exists()


def test_an_image_previews_inline(page, axe, bob, patient_a, tmp_path: Path):
    image = tmp_path / "fundus.png"
    image.write_bytes(png_bytes(64, 48))
    sign_in(page, axe)
    page.goto(f"/office/patients/{patient_a.public_id}/files/upload/")
    axe.check(page)
    page.get_by_label("Files").set_input_files(str(image))
    page.get_by_label("Description").fill("Fundus photo")
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(rf"/office/patients/{patient_a.public_id}/(#files)?$"))
    axe.check(page)
    page.get_by_role("link", name="fundus.png", exact=True).click()
    expect(page.get_by_role("heading", name="fundus.png")).to_be_visible()
    img = page.get_by_role("img", name="Fundus photo")
    expect(img).to_be_visible()
    expect(img).to_have_js_property("naturalWidth", 64)
    axe.check(page)


@pytest.mark.parametrize("page", [360], indirect=True)
def test_the_console_works_on_a_phone_with_the_keyboard(page, axe, alice, patient_a):
    enrol_authenticator(alice)
    page.goto("/office/login/")
    axe.check(page)
    # The username field has focus on arrival; everything else is reached with Tab.
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Code")).to_be_focused()
    axe.check(page)
    page.keyboard.type(authenticator_code())
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    # The skip link is the first stop, then the navigation.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent") == "Admin":
            break
    expect(page.get_by_role("link", name="Admin")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("[data-portal-url]")).to_have_text(re.compile(r"^http://.+/p/clinic-x/$"))
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize("page", [360], indirect=True)
def test_an_admin_creates_and_revokes_an_api_key_on_a_phone(page, axe, alice):
    from clinicportal.accounts.models import ApiKey

    enrol_authenticator(alice)
    sign_in(page, axe, "alice")
    page.get_by_role("link", name="Admin").click()
    axe.check(page)
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_text("No API keys yet.")).to_be_visible()
    axe.check(page)
    page.get_by_label("What will use it").fill("Reception printer")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("[data-api-key]").text_content() or ""
    assert key.startswith("cpk_") and "shown only once" in page.content()
    expect(page.locator("pre.command")).to_contain_text(f"CLINICPORTAL_API_KEY={key}")
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    page.get_by_role("link", name="API keys").click()  # shown once: gone on the next visit
    expect(page.locator("[data-api-key]")).to_have_count(0)
    axe.check(page)
    page.get_by_role("link", name="Revoke Reception printer").click()
    expect(page.get_by_text("This cannot be undone")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Yes, revoke").click()
    expect(page.get_by_text("no longer works")).to_be_visible()
    axe.check(page)
    assert ApiKey.objects.get().revoked_at is not None


@pytest.mark.parametrize("page", [360], indirect=True)
def test_an_admin_signs_staff_and_portal_users_out_on_a_phone(page, axe, alice, bob):
    from clinicportal.accounts.models import OfficeSession
    from clinicportal.accounts.services.sessions import office_session_start

    office_session_start(user=bob.user, session_key="bobs-laptop", ip=None, user_agent="")
    sign_in(page, axe, "alice")
    page.get_by_role("link", name="Admin").click()
    axe.check(page)
    page.get_by_role("link", name="Staff", exact=True).click()
    expect(page.get_by_role("heading", name="Staff")).to_be_visible()
    axe.check(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    page.get_by_role("link", name="Sign out everywhere Bob Front Desk").click()
    expect(page.get_by_text("on 1 device now")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Yes, sign Bob Front Desk out").click()
    expect(
        page.get_by_text("Bob Front Desk is signed out of the office everywhere.")
    ).to_be_visible()
    axe.check(page)
    assert not OfficeSession.objects.filter(user=bob.user).exists()
    page.get_by_role("link", name="Sign out all staff").click()
    expect(page.get_by_text("0 other office sessions are active now.")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("link", name="Sign out all portal users").click()
    expect(page.get_by_text("0 portal sessions are active now.")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Yes, sign out all portal users").click()
    expect(page.get_by_text("0 portal sessions ended.")).to_be_visible()
    axe.check(page)


def test_remove_files_by_category_asks_before_removing(page, axe, bob, patient_a):
    from clinicportal.records.models import PortalDocument
    from clinicportal.records.services import portal_document_share_chart_file
    from tests.conftest import actor, add_chart_pdf

    chart = add_chart_pdf(bob, patient_a, description="Exam")
    portal_document_share_chart_file(
        actor=actor(bob),
        chart_file=chart,
        document_date=chart.document_date,
        description="Your exam",
        is_education=False,
    )
    sign_in(page, axe)
    page.goto(f"/office/patients/{patient_a.public_id}/")
    axe.check(page)
    page.get_by_role("link", name="Remove Files").click()
    axe.check(page)
    page.get_by_role("link", name="System files").click()
    expect(page.get_by_text("No files of this kind")).to_be_visible()
    axe.check(page)
    page.get_by_role("link", name="Patient files").click()
    axe.check(page)
    page.get_by_role("button", name="Remove File").click()
    expect(page.get_by_text("Please choose a file first.").first).to_be_visible()
    axe.check(page)
    page.get_by_label(re.compile("exam.pdf")).check()
    page.get_by_role("button", name="Remove File").click()
    expect(page.get_by_text("This cannot be undone")).to_be_visible()
    axe.check(page)
    assert PortalDocument.objects.exists()
    page.get_by_role("button", name="Yes, remove").click()
    expect(page.get_by_text("was removed from the portal")).to_be_visible()
    axe.check(page)
    assert not PortalDocument.objects.exists()


@pytest.mark.parametrize("page", [360], indirect=True)
def test_the_library_says_on_how_many_portals_each_document_is(page, axe, alice, patient_a):
    from clinicportal.content.services import blob_put_bytes
    from clinicportal.practices.models import SystemDocument
    from clinicportal.records.services import portal_document_assign_system
    from tests.conftest import actor

    for description, data in (("About glaucoma", PDF_BYTES), ("Dry eye", PDF_BYTES + b"dry")):
        document = SystemDocument.objects.create(
            practice=alice.practice,
            blob=blob_put_bytes(practice=alice.practice, data=data, content_type="application/pdf"),
            filename=f"{description}.pdf",
            description=description,
        )
    portal_document_assign_system(
        actor=actor(alice), patient=patient_a, system_document=document, is_education=True
    )
    enrol_authenticator(alice)
    sign_in(page, axe, "alice")
    page.goto("/office/settings/website/#library")
    library = page.locator("table.library")
    expect(library.get_by_role("row", name=re.compile("About glaucoma"))).to_contain_text(
        "Not assigned to anyone"
    )
    expect(library.get_by_role("row", name=re.compile("Dry eye"))).to_contain_text(
        "On 1 patient’s portal"
    )
    # The rows are cards on a phone: nothing, not even a file chooser, is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    axe.check(page)
