"""Admin → Forms: the list, a new form, its details and the preview (the field builder: its own
module, test_office_form_builder.py)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field
from clinicportal.intake.models import Form, FormVersion
from clinicportal.intake.services import (
    form_create,
    form_fields_save,
)
from clinicportal.practices.models import StaffMember
from tests.conftest import actor

FORMS = reverse("office:forms")
NEW = reverse("office:form_new")


def error_next_to(html: str, input_id: str) -> str:
    """The error message the input points at with aria-describedby."""
    found = re.search(rf'<[^>]*id="{input_id}"[^>]*>', html)
    assert found, f"no input {input_id}"
    assert 'aria-invalid="true"' in found.group(0), found.group(0)
    described = re.search(r'aria-describedby="([^"]*)"', found.group(0))
    assert described and f"{input_id}_error" in described.group(1).split()
    error = re.search(rf'<div class="errors" id="{input_id}_error">(.*?)</div>', html, re.S)
    assert error
    return unescape(re.sub(r"<[^>]+>", " ", error.group(1))).strip()


def consent_form(member: StaffMember) -> Form:
    """A consent form of three fields: a heading, a required short text and a choice."""
    form = form_create(actor=actor(member), name="Consent to treat", kind=Form.Kind.CONSENT)
    form_fields_save(
        actor=actor(member),
        form=form,
        fields=[
            Field("h", kinds.HEADING, "About you"),
            Field("name", kinds.SHORT_TEXT, "Preferred name", required=True),
            Field("pick", kinds.SINGLE, "Reason", choices=("Check-up", "Problem")),
        ],
    )
    return form


@pytest.fixture
def consent(alice) -> Form:
    return consent_form(alice)


# The list and a new form ----------------------------------------------------------------------


def test_admin_makes_a_form_and_finds_it_in_the_list(alice_client):
    response = alice_client.post(
        NEW,
        {"name": "  New   patient intake ", "kind": "intake", "description": "Before the visit."},
    )
    form = Form.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("office:form", args=[form.public_id]) + "#fields"
    assert form.name == "New patient intake" and form.active and not form.offered_to_all
    assert FormVersion.objects.get(form=form).fields == []
    page = alice_client.get(response["Location"]).content.decode()
    assert "“New patient intake” was made. Now add its fields." in unescape(page)
    assert "No fields yet. Add the first one below." in page
    html = alice_client.get(FORMS).content.decode()
    assert (
        f'<a href="{reverse("office:form", args=[form.public_id])}">New patient intake</a>' in html
    )
    assert ">Intake</td>" in html and ">Patients it is assigned to</td>" in html


def test_a_new_form_without_a_name_says_so_and_makes_nothing(alice_client):
    response = alice_client.post(NEW, {"name": "  ", "kind": "intake"})
    assert response.status_code == 400
    assert error_next_to(response.content.decode(), "id_name") == "Please give the form a name."
    assert not Form.objects.exists()


@pytest.mark.parametrize(
    "url", ["office:forms", "office:form_new", "office:form", "office:form_preview"]
)
def test_staff_who_are_not_admins_may_not_open_admin_forms(bob_client, consent, url):
    args = [consent.public_id] if url in ("office:form", "office:form_preview") else []
    assert bob_client.get(reverse(url, args=args)).status_code == 403
    if url in ("office:form_new", "office:form"):
        posted = {"part": "details", "name": "x", "kind": "other"}
        assert bob_client.post(reverse(url, args=args), posted).status_code == 403
    assert Form.objects.count() == 1
    consent.refresh_from_db()
    assert consent.name == "Consent to treat"


# Details --------------------------------------------------------------------------------------


def test_the_details_are_saved_and_audited(alice_client, consent):
    url = reverse("office:form", args=[consent.public_id])
    response = alice_client.post(
        url,
        {
            "part": "details",
            "name": "Consent",
            "kind": "hipaa",
            "description": "Please read.",
            "offered_to_all": "on",
        },
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert (consent.name, consent.kind, consent.offered_to_all, consent.active) == (
        "Consent",
        "hipaa",
        True,
        False,  # "In use" left unticked
    )
    assert AuditEvent.objects.filter(action=AuditEvent.Action.FORM_CHANGED).count() == 3
    html = alice_client.get(url).content.decode()
    assert "This form is not in use" in html


def test_details_without_a_name_keep_what_was_typed(alice_client, consent):
    url = reverse("office:form", args=[consent.public_id])
    response = alice_client.post(
        url, {"part": "details", "name": "", "kind": "consent", "description": "Kept <b>"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert error_next_to(html, "id_name") == "Please give the form a name."
    assert "Kept &lt;b&gt;</textarea>" in html
    consent.refresh_from_db()
    assert consent.name == "Consent to treat"


# Preview --------------------------------------------------------------------------------------


def test_the_preview_shows_every_field_as_patients_see_it_with_inputs_off(alice_client, alice):
    form = form_create(actor=actor(alice), name="History", kind=Form.Kind.HISTORY)
    form_fields_save(
        actor=actor(alice),
        form=form,
        fields=[
            Field("h", kinds.HEADING, "About <you>", help="Tell us"),
            Field("t", kinds.SHORT_TEXT, "Name", required=True, help="As on your card"),
            Field("l", kinds.LONG_TEXT, "Anything else"),
            Field("d", kinds.DATE, "Born"),
            Field("n", kinds.NUMBER, "Drops"),
            Field("y", kinds.YES_NO, "Glasses?"),
            Field("c", kinds.YES_NO, "Contacts?", required=True),
            Field("s", kinds.SINGLE, "Reason", choices=("A", "B")),
            Field("m", kinds.MULTIPLE, "Symptoms", choices=("Dry", "Itchy")),
            Field("g", kinds.SIGNATURE, "I agree to the terms", required=True),
            Field("p", kinds.HELP, "We keep this private."),
        ],
    )
    html = alice_client.get(reverse("office:form_preview", args=[form.public_id])).content.decode()
    assert '<h2 class="form-heading">About &lt;you&gt;</h2><p class="form-note">Tell us</p>' in html
    assert "Questions marked * must be answered before you submit." in html
    assert (
        '<label for="preview-t">Name <span class="required" aria-hidden="true">*</span>'
        '<span class="visually-hidden"> (required)</span></label>'
    ) in html
    assert (
        '<input type="text" id="preview-t" name="preview-t" value="" maxlength="300" disabled'
        ' aria-describedby="preview-t-help">'
    ) in html
    assert '<p class="help" id="preview-t-help">As on your card</p>' in html
    assert '<textarea id="preview-l" name="preview-l" rows="5" maxlength="5000" disabled>' in html
    assert 'disabled aria-describedby="preview-d-help">' in html
    assert '<p class="help" id="preview-d-help">For example 03/14/1980.</p>' in html
    assert (
        '<input type="text" id="preview-n" name="preview-n" value="" inputmode="decimal"'
        ' class="short-input" autocomplete="off" disabled>'
    ) in html
    assert "<legend>Glasses?</legend>" in html
    assert (
        'id="preview-y-0" name="preview-y" value="yes" disabled> <label for="preview-y-0">Yes'
        in html
    )
    assert (
        'id="preview-s-1" name="preview-s" value="B" disabled> <label for="preview-s-1">B</' in html
    )
    # Optional single answers offer a way back to none, as in the portal; required ones do not.
    assert (
        'id="preview-y-2" name="preview-y" value="" checked disabled>'
        ' <label for="preview-y-2">No answer'
    ) in html
    assert (
        'id="preview-s-2" name="preview-s" value="" checked disabled>'
        ' <label for="preview-s-2">No answer'
    ) in html
    assert html.count(">No answer</label>") == 2  # not the multiple, the signature or "c"
    assert (
        'id="preview-c-1" name="preview-c" value="no" disabled> <label for="preview-c-1">No' in html
    )
    assert 'type="checkbox" id="preview-m-0" name="preview-m" value="Dry" disabled>' in html
    assert '<fieldset class="field question" aria-describedby="preview-g-help">' in html
    assert (
        'id="preview-g" name="preview-g" value="" maxlength="300" autocomplete="name" disabled>'
        in html
    )
    assert 'id="preview-g-agree" name="preview-g-agree" value="on" disabled>' in html
    assert "Typing your full name and ticking “I agree” signs this form." in html
    assert '<p class="form-note">We keep this private.</p>' in html
    # Switched off, nothing is required of the browser: the labels say it instead.
    assert not re.search(r"<(input|textarea)[^>]* required", html)
    assert "<form" not in html.split("<main", 1)[1].split("</main>")[0]  # nothing to send
