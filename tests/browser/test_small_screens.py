"""Pages at 360 px wide: nothing scrolls sideways, and axe-core finds nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_office_browser import sign_in
from tests.conftest import PDF_BYTES, enrol_authenticator

pytestmark = pytest.mark.browser

LONG_FILENAME = "Understanding_your_glaucoma_eye_drops_and_how_to_use_them_every_single_day.pdf"


def browser_roles(page) -> set[str]:
    """The roles in Chromium's own accessibility tree, which CSS display can change."""
    tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")
    return {node["role"]["value"] for node in tree["nodes"] if "role" in node}


def fits(page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths}"


@pytest.mark.parametrize("page", [360], indirect=True)
def test_admin_website_with_library_documents_fits_a_phone(page, axe, alice, tmp_path):
    enrol_authenticator(alice)
    handout = tmp_path / LONG_FILENAME
    handout.write_bytes(PDF_BYTES)
    sign_in(page, axe, "alice")
    page.get_by_role("link", name="Admin").click()
    axe.check(page)
    for description in ("About glaucoma", "Dilating drops: what to expect afterwards"):
        page.locator("#id_upload").set_input_files(str(handout))
        page.get_by_label("Description").fill(description)
        page.get_by_role("button", name="Upload File").click()
        expect(page.get_by_role("row", name=description)).to_be_visible()
        axe.check(page)
    fits(page)
    # Stacked on a phone, the library is still a table to a screen reader.
    assert {"table", "row", "columnheader", "rowheader", "cell"} <= browser_roles(page)
    for name in ("Email Settings", "API keys"):
        page.get_by_role("link", name=name, exact=True).click()
        axe.check(page)
        fits(page)


@pytest.mark.parametrize("page", [360], indirect=True)
def test_admin_messages_fits_a_phone_and_keeps_one_category_on(page, axe, alice):
    from clinicportal.messaging.selectors import categories_offered, messaging_settings_for

    enrol_authenticator(alice)
    sign_in(page, axe, "alice")
    page.get_by_role("link", name="Admin").click()
    axe.check(page)
    page.get_by_role("link", name="Messages", exact=True).click()
    expect(page.get_by_role("heading", name="Secure messages")).to_be_visible()
    axe.check(page)
    fits(page)
    for box in page.get_by_role("checkbox", name="Offered to patients").all():
        box.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Please leave at least one category on.")).to_be_visible()
    axe.check(page)
    fits(page)
    page.get_by_label("We reply").fill("within one business day")
    optical = page.get_by_role("group", name="Glasses or contacts")
    optical.get_by_label("Name patients see").fill("Glasses and contact lens orders")
    optical.get_by_role("checkbox", name="Offered to patients").check()
    page.get_by_role("group", name="Other").get_by_role("checkbox").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The message settings were saved.")).to_be_visible()
    axe.check(page)
    fits(page)
    assert categories_offered(messaging_settings_for(alice.practice)) == [
        ("optical", "Glasses and contact lens orders"),
        ("other", "Other"),
    ]


@pytest.mark.parametrize("page", [360], indirect=True)
def test_the_access_slip_and_the_patient_pages_fit_a_phone(page, axe, bob, patient_a):
    sign_in(page, axe)
    fits(page)
    page.goto(f"/office/patients/{patient_a.public_id}/")
    axe.check(page)
    fits(page)
    page.get_by_role("link", name="Set up portal access").click()
    axe.check(page)
    fits(page)
    page.get_by_role("button", name="Default").click()
    page.get_by_role("button", name="Create access").click()
    expect(page.get_by_role("heading", name="Portal access is ready")).to_be_visible()
    axe.check(page)
    fits(page)
    for name in ("Tasks", "Billing", "Outbox", "Bob"):
        page.get_by_role("link", name=name).first.click()
        axe.check(page)
        fits(page)


@pytest.mark.parametrize("page", [360], indirect=True)
def test_a_long_filename_fits_in_the_office_and_the_portal(make_page, page, axe, bob, patient_a):
    from clinicportal.accounts.models import PortalAccount
    from clinicportal.accounts.passwords import hash_password
    from clinicportal.accounts.services.portal_access import portal_access_issue
    from clinicportal.records.services import portal_document_share_chart_file
    from tests.browser.test_portal_browser import portal_sign_in
    from tests.conftest import NEW_PASSWORD, actor, add_chart_pdf

    chart = add_chart_pdf(bob, patient_a, LONG_FILENAME, "Drops " + "handout" * 12)
    portal_document_share_chart_file(
        actor=actor(bob),
        chart_file=chart,
        document_date=chart.document_date,
        description=chart.description,
        is_education=True,
    )
    portal_access_issue(actor=actor(bob), patient=patient_a, username="ada", password=None)
    PortalAccount.objects.update(password=hash_password(NEW_PASSWORD), password_is_temporary=False)

    sign_in(page, axe)
    page.goto(f"/office/patients/{patient_a.public_id}/")
    axe.check(page)
    fits(page)

    patient = make_page(360)
    portal_sign_in(patient, axe, "ada", NEW_PASSWORD)
    expect(patient.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(patient)
    fits(patient)
    for name in ("LOGS", "ACCOUNT"):
        patient.get_by_role("link", name=name).click()
        axe.check(patient)
        fits(patient)


@pytest.mark.parametrize("page", [360], indirect=True)
def test_the_outbox_says_the_worker_stopped_and_sends_a_failed_email_again_by_keyboard(
    page, axe, alice, email_settings
):
    import datetime

    from django.utils import timezone

    from clinicportal.notifications.delivery import MAX_ATTEMPTS
    from clinicportal.notifications.models import OutboxEmail
    from clinicportal.notifications.services import email_send_test
    from tests.conftest import actor

    enrol_authenticator(alice)
    for to in ("stuck@example.com", "failed@example.com"):
        email_send_test(actor=actor(alice), to=to)
    OutboxEmail.objects.filter(to="stuck@example.com").update(
        status="sending", lease_until=timezone.now() - datetime.timedelta(minutes=1)
    )
    OutboxEmail.objects.filter(to="failed@example.com").update(
        status="failed", attempts=MAX_ATTEMPTS, last_error="The mail server answered 421: busy"
    )
    sign_in(page, axe, "alice")
    expect(page.get_by_role("alert").first).to_contain_text("Emails are not being sent")
    page.get_by_role("link", name="Open the Outbox").click()
    axe.check(page)
    fits(page)
    expect(page.get_by_role("alert")).to_contain_text("the worker has not run yet")
    expect(page.get_by_role("table")).to_contain_text("Stuck")
    page.get_by_role("row", name="failed@example.com").get_by_role("link").click()
    axe.check(page)
    fits(page)
    page.get_by_role("button", name="Send again").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("The email is queued to be sent again.")).to_be_visible()
    axe.check(page)
    assert OutboxEmail.objects.get(to="failed@example.com").status == "queued"


@pytest.mark.parametrize("page", [360], indirect=True)
def test_an_email_whose_text_was_forgotten_says_so_on_a_phone(page, axe, alice, email_settings):
    import datetime

    from django.urls import reverse
    from django.utils import timezone

    from clinicportal.notifications.models import OutboxEmail
    from clinicportal.notifications.services import email_send_test, outbox_forget_sent_text
    from tests.conftest import actor

    enrol_authenticator(alice)
    email_send_test(actor=actor(alice), to="ada@example.com")
    long_ago = timezone.now() - datetime.timedelta(days=100)
    OutboxEmail.objects.update(status="sent", sent_at=long_ago)
    assert outbox_forget_sent_text() == 1
    sign_in(page, axe, "alice")
    page.goto(reverse("office:outbox_email", args=[OutboxEmail.objects.get().public_id]))
    axe.check(page)
    fits(page)
    expect(page.get_by_text("Its text and files were forgotten on")).to_be_visible()


@pytest.mark.parametrize("page", [360], indirect=True)
def test_invoice_print_and_admin_invoices_fit_a_phone(page, axe, alice, patient_a, issue_access):
    import datetime

    from clinicportal.billing.services import LineDraft, invoice_create, invoice_finalize
    from tests.conftest import actor

    issue_access(patient_a)
    invoice = invoice_create(
        actor=actor(alice),
        patient=patient_a,
        invoice_date=datetime.date(2026, 11, 20),
        provider="Dr. Chen",
        lines=[
            LineDraft(
                description="Comprehensive eye exam, new patient, with dilation",
                unit_price_cents=15_000,
                service_code="92004",
                diagnosis_codes="H40.11; H52.4",
            ),
            LineDraft(description="Artificial tears", unit_price_cents=1_250, quantity=2),
        ],
    )
    invoice_finalize(actor=actor(alice), invoice=invoice)
    enrol_authenticator(alice)
    sign_in(page, axe, "alice")
    page.get_by_role("link", name="Admin").click()
    axe.check(page)
    page.get_by_role("link", name="Invoices", exact=True).click()
    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    axe.check(page)
    fits(page)
    page.get_by_label("Include information on how to access the portal").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The invoice settings were saved.")).to_be_visible()
    axe.check(page)
    fits(page)

    page.goto(f"/office/patients/{patient_a.public_id}/invoices/{invoice.public_id}/print/")
    axe.check(page)
    fits(page)
    # On a phone the invoice's number and facts come under the practice, from the left.
    practice = page.locator(".invoice-from").bounding_box()
    about = page.locator(".invoice-about").bounding_box()
    assert practice is not None and about is not None
    assert abs(about["x"] - practice["x"]) < 1 and about["y"] >= practice["y"] + practice["height"]
    expect(page.get_by_role("checkbox", name="Portal Info")).to_be_checked()
    expect(page.get_by_role("heading", name="Your patient portal")).to_be_visible()
    page.get_by_role("radio", name="Row View").check()
    page.get_by_role("checkbox", name="Hide Diag").check()
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Line 2")).to_be_visible()
    expect(page.get_by_text("H40.11")).to_have_count(0)
    axe.check(page)
    fits(page)
    page.get_by_role("button", name="Email Portal Access").click()
    expect(page.get_by_text("Portal access is on its way to ada@example.com.")).to_be_visible()
    expect(page.get_by_role("radio", name="Row View")).to_be_checked()
    axe.check(page)
    fits(page)
