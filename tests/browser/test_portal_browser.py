"""Patients and guardians in the portal, with the office handing out access."""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from clinicportal.accounts.models import PortalSession
from clinicportal.accounts.services.portal_access import authorized_user_link
from clinicportal.portal import auth
from tests.browser.test_office_browser import sign_in as staff_sign_in
from tests.conftest import GUARDIAN_PASSWORD, NEW_PASSWORD, actor, add_guardian, enrol_authenticator

pytestmark = pytest.mark.browser


def portal_sign_in(page, axe, username: str, password: str) -> None:
    page.goto("/p/clinic-x/login/")
    axe.check(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_staff_issue_access_and_the_patient_sets_a_password(make_page, axe, bob, patient_a):
    office = make_page()
    staff_sign_in(office, axe)
    office.goto(f"/office/patients/{patient_a.public_id}/")
    axe.check(office)
    office.get_by_role("link", name="Set up portal access").click()
    axe.check(office)
    office.get_by_role("button", name="Default").click()
    expect(office.get_by_label("Username")).to_have_value("alovelace")
    axe.check(office)
    office.get_by_role("button", name="Create access").click()
    expect(office.get_by_role("heading", name="Portal access is ready")).to_be_visible()
    axe.check(office)
    password = office.locator("[data-slip-password]").inner_text()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password)

    patient = make_page(360)
    portal_sign_in(patient, axe, "alovelace", password)
    expect(patient.get_by_role("heading", name="Choose your own password")).to_be_visible()
    axe.check(patient)
    patient.locator("#id_new_password").fill(NEW_PASSWORD)
    patient.get_by_label("New password again").fill(NEW_PASSWORD)
    patient.get_by_role("button", name="Save my password").click()
    expect(patient.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(patient)
    patient.get_by_role("link", name="LOGS").click()
    expect(patient.get_by_role("heading", name="Portal access log")).to_be_visible()
    axe.check(patient)
    log = patient.locator("table.logs")
    for text in ("Portal access issued by the office", "Signed in", "Password changed"):
        expect(log.get_by_text(text, exact=True)).to_be_visible()
    assert patient.evaluate("() => document.documentElement.scrollWidth") <= 360
    patient.get_by_role("link", name="ACCOUNT").click()
    expect(patient.get_by_role("heading", name="Account")).to_be_visible()
    axe.check(patient)
    patient.get_by_role("button", name="Log Out").click()
    expect(patient.get_by_text("You have signed out.")).to_be_visible()
    axe.check(patient)


def test_a_guardian_switches_between_two_children(page, axe, alice, patient_a, patient_b):
    add_guardian(alice, patient_a)
    authorized_user_link(actor=actor(alice), patient=patient_b, username="mary", note="guardian")
    portal_sign_in(page, axe, "mary", GUARDIAN_PASSWORD)
    expect(page.get_by_role("heading", name="Whose portal would you like to open?")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Blaise Pascal").click()
    expect(page.locator(".portal-header .who")).to_contain_text(
        "Blaise Pascal · signed in as Mary Lovelace"
    )
    axe.check(page)
    page.get_by_role("link", name="Switch patient").click()
    axe.check(page)
    page.get_by_role("button", name="Ada Lovelace").click()
    expect(page.locator(".portal-header .who")).to_contain_text(
        "Ada Lovelace · signed in as Mary Lovelace"
    )
    axe.check(page)


def test_repeated_failures_lock_the_door_with_a_clear_message(
    page, axe, alice, patient_a, issue_access
):
    username, password = issue_access(patient_a, "ada")
    for _ in range(5):
        portal_sign_in(page, axe, username, "not-my-password")
        expect(page.get_by_text("do not match")).to_be_visible()
        axe.check(page)
    portal_sign_in(page, axe, username, password)
    expect(page.get_by_text("sign-in is paused for 15 minutes")).to_be_visible()
    axe.check(page)


def test_an_idle_session_is_signed_out_by_the_server(page, axe, ada_portal_user):
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)
    # Sixteen minutes pass without a request.
    session = PortalSession.objects.get()
    store = SessionStore(session_key=session.session_key)
    store[auth.SEEN] = store[auth.SEEN] - 16 * 60
    store.save()
    page.get_by_role("link", name="ACCOUNT").click()
    expect(page.get_by_text("You were signed out to protect your information.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/p/clinic-x/login/$"))
    axe.check(page)


@pytest.fixture
def ada_portal_user(practice_x, patient_a, issue_access):
    from clinicportal.accounts.models import PortalAccount
    from clinicportal.accounts.passwords import hash_password

    issue_access(patient_a, "ada")
    PortalAccount.objects.update(password=hash_password(NEW_PASSWORD), password_is_temporary=False)


def test_forgot_password_by_email_end_to_end(
    make_page, axe, alice, ada_portal_user, email_settings, smtp_server
):
    from tests.conftest import run_worker

    visitor = make_page(360)
    visitor.goto("/p/clinic-x/login/")
    axe.check(visitor)
    visitor.get_by_role("link", name="Forgot your password?").click()
    axe.check(visitor)
    visitor.get_by_label("Username or email address").fill("ada@example.com")
    visitor.get_by_role("button", name="Email me a link").click()
    expect(visitor.get_by_role("heading", name="Check your email")).to_be_visible()
    axe.check(visitor)
    run_worker()
    text = smtp_server.messages[0].get_body(("plain",)).get_content()
    link = re.search(r"https?://[^/]+(/p/clinic-x/password/[\w-]+/)", text)
    assert link is not None
    visitor.goto(link.group(1))
    axe.check(visitor)
    visitor.locator("#id_new_password").fill("amber-willow-kite-3301")
    visitor.get_by_label("New password again").fill("amber-willow-kite-3301")
    visitor.get_by_role("button", name="Save my password").click()
    expect(visitor.get_by_text("Your password is set. Please sign in with it.")).to_be_visible()
    axe.check(visitor)

    enrol_authenticator(alice)
    office = make_page()
    staff_sign_in(office, axe, "alice")
    office.get_by_role("link", name="Outbox").click()
    expect(office.get_by_role("table").get_by_text("Sent", exact=True)).to_be_visible()
    axe.check(office)
    office.get_by_role("link", name="Reset your Clinic X Eye Care portal password").click()
    expect(office.locator(".email-body")).to_contain_text("Choose a new password with this link")
    axe.check(office)
    office.get_by_role("link", name="Admin").click()
    axe.check(office)
    office.get_by_role("link", name="Email Settings").click()
    expect(office.get_by_label("SMTP server")).to_have_value("127.0.0.1")
    axe.check(office)


def test_a_patient_turns_on_two_step_sign_in(page, axe, ada_portal_user):
    from clinicportal.accounts import totp
    from clinicportal.accounts.models import TwoFactorDevice

    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    axe.check(page)
    page.get_by_role("link", name="ACCOUNT").click()
    axe.check(page)
    page.get_by_role("link", name="Turn on two-step sign-in").click()
    axe.check(page)
    page.get_by_role("button", name="Show my QR code").click()
    expect(
        page.get_by_role("img", name="QR code to add this account to an authenticator app")
    ).to_be_visible()
    axe.check(page)
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code").fill(totp.code_at(secret, totp.current_step()))
    page.get_by_label("Your password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.locator("[data-recovery-codes] li")).to_have_count(10)
    axe.check(page)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_text("On: after your password")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Log Out").click()
    axe.check(page)
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    axe.check(page)
    # Half a minute on: the code that turned it on is used up, and a future one never works.
    TwoFactorDevice.objects.update(last_used_step=totp.current_step() - 1)
    page.get_by_label("Code").fill(totp.code_at(secret, totp.current_step()))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Records")).to_be_visible()
    axe.check(page)


def test_staff_share_a_chart_file_and_the_patient_opens_it(
    make_page, axe, bob, patient_a, ada_portal_user
):
    from tests.conftest import add_chart_pdf

    add_chart_pdf(bob, patient_a, "2026-11-20 Visit summary.pdf", "Visit summary")
    office = make_page()
    staff_sign_in(office, axe)
    office.goto(f"/office/patients/{patient_a.public_id}/")
    axe.check(office)
    office.get_by_role("link", name="Share to portal 2026-11-20 Visit summary.pdf").click()
    expect(office.get_by_label("Description")).to_have_value("Visit summary")
    axe.check(office)
    office.get_by_label("Education resource").check()
    office.get_by_role("button", name="Share to portal").click()
    files = office.locator("table.online-files")
    expect(files.get_by_text("Chart or upload")).to_be_visible()
    axe.check(office)
    office.get_by_role("link", name="Upload to portal").click()
    axe.check(office)
    office.go_back()
    office.get_by_role("link", name="Assign File From Other Patient").click()
    axe.check(office)
    office.get_by_label("Find the other patient by name, date of birth or phone").fill("lovelace")
    office.get_by_role("button", name="Find").click()
    axe.check(office)
    office.goto(f"/office/patients/{patient_a.public_id}/portal/documents/assign-system/")
    expect(office.get_by_text("The library is empty.")).to_be_visible()
    axe.check(office)

    patient = make_page(360)
    portal_sign_in(patient, axe, "ada", NEW_PASSWORD)
    expect(patient.get_by_role("heading", name="Records")).to_be_visible()
    expect(patient.get_by_text("New", exact=True)).to_be_visible()
    axe.check(patient)
    with patient.expect_popup() as popup:
        patient.get_by_role("link", name="View Visit summary").click()
    viewer = popup.value
    viewer.wait_for_load_state()
    assert "/records/" in viewer.url
    patient.reload()
    expect(patient.get_by_text("New", exact=True)).to_have_count(0)
    axe.check(patient)
    with patient.expect_download() as download:
        patient.get_by_role("link", name="Download all (ZIP)").click()
    import zipfile

    names = zipfile.ZipFile(download.value.path()).namelist()
    assert [name.split(" ", 1)[1] for name in names] == ["2026-11-20 Visit summary.pdf"]
    patient.get_by_role("link", name="LOGS").click()
    expect(patient.get_by_text("Ada Lovelace viewed “Visit summary”")).to_be_visible()
    axe.check(patient)


def test_staff_share_a_medlineplus_topic_and_the_patient_opens_it(
    make_page, axe, bob, patient_a, ada_portal_user, medlineplus
):
    office = make_page()
    staff_sign_in(office, axe)
    office.goto(f"/office/patients/{patient_a.public_id}/")
    axe.check(office)
    office.get_by_role("link", name="Search Online").click()
    axe.check(office)
    office.get_by_label("Health topic").fill("glaucoma")
    office.get_by_label("Health topic").press("Enter")
    expect(
        office.get_by_role("heading", name="Glaucoma (opens MedlinePlus in a new tab)")
    ).to_be_visible()
    assert "glaucoma" not in office.url  # posted: only a handle in the address
    axe.check(office)
    office.get_by_role("button", name="Share to portal Glaucoma").click()
    files = office.locator("table.online-files")
    expect(files.get_by_text("MedlinePlus topic")).to_be_visible()
    axe.check(office)
    medlineplus.mode = "error"
    office.goto(f"/office/patients/{patient_a.public_id}/portal/documents/search-online/")
    office.get_by_label("Health topic").fill("eye")
    office.get_by_label("Health topic").press("Enter")
    expect(office.get_by_role("alert")).to_contain_text("MedlinePlus could not be reached")
    axe.check(office)

    patient = make_page(360)
    portal_sign_in(patient, axe, "ada", NEW_PASSWORD)
    expect(patient.get_by_text("Web page")).to_be_visible()
    axe.check(patient)
    link = patient.get_by_role("link", name="Open on MedlinePlus Glaucoma (opens in a new tab)")
    expect(link).to_have_attribute("target", "_blank")
    # MedlinePlus lies outside this machine: follow the portal's hop in the browser's session
    # and check where it leads, without leaving the machine.
    hop = patient.request.get(link.get_attribute("href"), max_redirects=0)
    assert (hop.status, hop.headers["location"]) == (302, "https://medlineplus.gov/glaucoma.html")
    patient.get_by_role("link", name="LOGS").click()
    expect(patient.get_by_text("Ada Lovelace viewed “Glaucoma”")).to_be_visible()
    axe.check(patient)


def test_stay_signed_in_keeps_what_the_patient_typed(page, axe, ada_portal_user, practice_x):
    practice_x.portal_idle_minutes = 2
    practice_x.save()
    page.clock.install()
    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    axe.check(page)
    page.goto("/p/clinic-x/messages/new/")
    axe.check(page)
    page.get_by_placeholder("Type message here").fill("A long message, written slowly.")
    session = PortalSession.objects.get()
    store = SessionStore(session_key=session.session_key)
    store[auth.SEEN] = store[auth.SEEN] - 61  # the server last saw the patient a minute ago
    store.save()
    seen = store[auth.SEEN]
    page.clock.run_for(61_000)
    stay = page.get_by_role("link", name="Stay signed in")
    expect(stay).to_be_focused()
    axe.check(page)
    stay.click()
    expect(page.get_by_role("alertdialog")).to_be_hidden()
    axe.check(page)
    expect(page.get_by_placeholder("Type message here")).to_have_value(
        "A long message, written slowly."
    )
    assert SessionStore(session_key=session.session_key)[auth.SEEN] > seen
    # The timers start again from the click: no reload a minute later.
    page.clock.run_for(60_000)
    expect(page.get_by_placeholder("Type message here")).to_have_value(
        "A long message, written slowly."
    )


@pytest.mark.parametrize("page", [360], indirect=True)
def test_a_message_for_one_child_goes_to_them_after_the_other_is_opened_in_another_tab(
    page, axe, alice, patient_a, patient_b
):
    from tests.browser.test_small_screens import fits

    add_guardian(alice, patient_a)
    authorized_user_link(actor=actor(alice), patient=patient_b, username="mary", note="guardian")
    portal_sign_in(page, axe, "mary", GUARDIAN_PASSWORD)
    expect(page.get_by_role("heading", name="Whose portal would you like to open?")).to_be_visible()
    axe.check(page)
    page.get_by_role("button", name="Ada Lovelace").click()
    axe.check(page)
    page.goto("/p/clinic-x/messages/new/")
    axe.check(page)
    page.get_by_label("What is your message about?").select_option(label="Other")
    page.get_by_label("Subject").fill("Drops")
    page.get_by_role("textbox", name="Message").fill("Ada needs new drops.")
    other = page.context.new_page()  # another tab of the same browser
    other.goto("/p/clinic-x/choose/")
    other.get_by_role("button", name="Blaise Pascal").click()
    expect(other.locator(".portal-header .who")).to_contain_text("Blaise Pascal")
    page.get_by_role("button", name="Send").click()
    expect(
        page.get_by_text("That page was for Ada Lovelace, so it was taken for Ada Lovelace")
    ).to_be_visible()
    # Sent: the conversation is open, in Ada's portal, and the message is Ada's.
    expect(page.get_by_role("heading", name="Drops")).to_be_visible()
    expect(page.get_by_text("Ada needs new drops.")).to_be_visible()
    expect(page.locator(".portal-header .who")).to_contain_text("Ada Lovelace")
    axe.check(page)
    fits(page)
    other.close()
    from clinicportal.messaging.models import Message

    assert Message.objects.get(writer="patient").conversation.patient_id == patient_a.pk


@pytest.mark.parametrize("page", [360], indirect=True)
def test_a_page_for_a_patient_not_opened_by_the_account_does_nothing(
    page, axe, ada_portal_user, patient_b
):
    from clinicportal.messaging.models import Message
    from tests.browser.test_small_screens import fits

    portal_sign_in(page, axe, "ada", NEW_PASSWORD)
    axe.check(page)
    page.goto("/p/clinic-x/messages/new/")
    axe.check(page)
    page.locator("input[name=for_patient]").evaluate(
        f"(box) => box.value = '{patient_b.public_id}'"  # someone else's id, typed into the page
    )
    page.get_by_label("Subject").fill("Drops")
    page.get_by_role("textbox", name="Message").fill("Please refill.")
    page.evaluate("() => document.querySelector('form[data-upload-form]').submit()")
    expect(page.get_by_role("heading", name="Nothing was sent")).to_be_visible()
    expect(page.get_by_text(patient_b.first_name)).to_have_count(0)
    axe.check(page)
    fits(page)
    assert not Message.objects.exists()
