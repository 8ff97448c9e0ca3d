"""Admin → Forms, the field builder: adding, editing, moving and removing fields, saving, and
what a bad or partial page does."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.intake import fields as kinds
from clinicportal.intake.fields import Field
from clinicportal.intake.models import Form, FormVersion
from clinicportal.intake.services import (
    draft_save,
    form_assign,
    form_fields_save,
    submission_submit,
)
from clinicportal.practices.models import Practice
from tests.conftest import actor
from tests.schedule_setup import patient_actor
from tests.test_office_forms import consent_form, error_next_to


@pytest.fixture
def consent(alice) -> Form:
    return consent_form(alice)


class FormValues(HTMLParser):
    """What a browser would post from the page's form whose class is ``css_class``."""

    def __init__(self, css_class: str) -> None:
        super().__init__()
        self.css_class = css_class
        self.inside = False
        self.values: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = self.css_class in a.get("class", "").split()
        if not self.inside:
            return
        if tag == "input" and a.get("type") != "submit" and a.get("name"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[a["name"]] = a.get("value") or "on"
            else:
                self.values[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[self._textarea] = ""
        elif tag == "select":
            self._select = a["name"]
        elif (
            tag == "option"
            and self._select
            and ("selected" in a or self._select not in self.values)
        ):
            self.values[self._select] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea:
            # A browser leaves out the one line break that follows <textarea>.
            self.values[self._textarea] = self.values[self._textarea].removeprefix("\n")
            self._textarea = None
        elif tag == "select":
            self._select = None


def builder_values(html: str) -> dict[str, str]:
    parser = FormValues("builder")
    parser.feed(html)
    return parser.values


def fields_now(form: Form) -> list[dict]:
    return FormVersion.objects.filter(form=form).order_by("-number")[0].fields


def press(client: Client, form: Form, action: str, **changes: str | None):
    """Press a builder button on the page as it is, with some inputs changed first."""
    url = reverse("office:form", args=[form.public_id])
    values = builder_values(client.get(url).content.decode())
    for name, value in changes.items():
        name = name.replace("__", "-")
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return client.post(url, {**values, "action": action})


def test_every_kind_of_field_is_added_with_its_parts(alice_client, consent):
    added = [
        ("long_text", "Anything else?", "", ""),
        ("date", "Date of birth", "", ""),
        ("number", "Drops a day", "", ""),
        ("yes_no", "Glasses?", "", ""),
        ("multiple_choice", "Symptoms", "Dry\n\n  Itchy  \nBlurry", ""),
        ("signature", "I consent", "", ""),
        ("help_text", "We keep this private.", "", ""),
    ]
    for kind, label, choices, _ in added:
        response = press(
            alice_client,
            consent,
            "add",
            new__kind=kind,
            new__label=label,
            new__help="Say it <b>plainly</b>",
            new__choices=choices or "Not for this kind",
            new__required="on",
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        assert response["Location"].endswith("#fields")
    saved = fields_now(consent)
    assert [f["kind"] for f in saved] == ["heading", "short_text", "single_choice"] + [
        k for k, *_ in added
    ]
    symptoms = saved[7]
    assert symptoms["choices"] == ["Dry", "Itchy", "Blurry"]
    assert symptoms["required"] is True and symptoms["help"] == "Say it <b>plainly</b>"
    assert "choices" not in saved[3]  # long text has none
    assert saved[-1] == {
        "key": saved[-1]["key"],
        "kind": "help_text",
        "label": "We keep this private.",
    }
    assert len({f["key"] for f in saved}) == len(saved)
    assert FormVersion.objects.filter(form=consent).count() == 1  # nothing answers it: in place
    html = alice_client.get(reverse("office:form", args=[consent.public_id])).content.decode()
    assert "Say it &lt;b&gt;plainly&lt;/b&gt;" in html  # shown as text


def test_labels_help_required_and_choices_are_edited_in_place(alice_client, consent):
    response = press(
        alice_client,
        consent,
        "save",
        fields__1__label="What should we call you?",
        fields__1__help="A nickname is fine.",
        fields__1__required=None,  # unticked
        fields__2__choices="Check-up\nA problem\nSomething else",
    )
    assert response.status_code == 302
    saved = fields_now(consent)
    assert saved[1] == {
        "key": "name",
        "kind": "short_text",
        "label": "What should we call you?",
        "help": "A nickname is fine.",
    }
    assert saved[2]["choices"] == ["Check-up", "A problem", "Something else"]
    page = alice_client.get(response["Location"]).content.decode()
    assert "The fields were saved." in page


@pytest.mark.parametrize(
    ("changes", "input_id", "message"),
    [
        ({"fields__2__choices": "Only one"}, "id_fields-2-choices", "at least two choices"),
        ({"fields__1__label": "   "}, "id_fields-1-label", "Please give the field a label."),
        (
            {"fields__2__choices": "Yes\nNo\nYes"},
            "id_fields-2-choices",
            "Each choice must be different.",
        ),
        (
            {"new__kind": "single_choice", "new__label": "Pick one", "new__choices": "A"},
            "id_new-choices",
            "at least two choices",
        ),
        ({"new__kind": "short_text", "new__help": "typed, but no label"}, "id_new-label", "label"),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_saved(
    alice_client, consent, changes, input_id, message
):
    before = fields_now(consent)
    response = press(alice_client, consent, "save", **changes)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in error_next_to(html, input_id)
    assert "Nothing was saved. Please correct the problems shown below." in html
    assert fields_now(consent) == before
    # What was typed is all still there, to correct.
    values = builder_values(html)
    for name, value in changes.items():
        assert values[name.replace("__", "-")] == value


def test_move_up_move_down_and_remove(alice_client, consent):
    assert press(alice_client, consent, "down-0").status_code == 302
    assert [f["key"] for f in fields_now(consent)] == ["name", "h", "pick"]
    assert press(alice_client, consent, "up-2").status_code == 302
    assert [f["key"] for f in fields_now(consent)] == ["name", "pick", "h"]
    response = press(alice_client, consent, "remove-1")
    assert [f["key"] for f in fields_now(consent)] == ["name", "h"]
    assert "“Reason” was removed." in unescape(
        alice_client.get(response["Location"]).content.decode()
    )


def test_a_new_field_typed_is_added_whichever_button_is_pressed(alice_client, consent):
    response = press(alice_client, consent, "remove-0", new__label="Allergies")
    assert [f["label"] for f in fields_now(consent)] == ["Preferred name", "Reason", "Allergies"]
    page = unescape(alice_client.get(response["Location"]).content.decode())
    assert "“About you” was removed." in page and "“Allergies” was added." in page
    press(alice_client, consent, "save", new__kind="yes_no", new__label="Glasses?")
    assert fields_now(consent)[-1]["kind"] == "yes_no"


def test_a_row_with_a_problem_can_still_be_removed(alice_client, consent):
    response = press(alice_client, consent, "remove-2", fields__2__choices="only one")
    assert response.status_code == 302
    assert [f["key"] for f in fields_now(consent)] == ["h", "name"]


def test_the_first_and_last_rows_have_no_button_past_the_end(alice_client, consent):
    html = alice_client.get(reverse("office:form", args=[consent.public_id])).content.decode()
    assert 'value="up-0"' not in html and 'value="down-2"' not in html
    assert 'value="down-0"' in html and 'value="up-2"' in html and 'value="remove-2"' in html
    # Enter in a text box presses the first button: Save, never a move.
    builder = html[html.index('class="builder"') :]
    first = re.search(r'<button type="submit" name="action" value="([^"]+)"', builder)
    assert first and first.group(1) == "save"


def test_saving_what_is_saved_changes_nothing(alice_client, consent):
    version = FormVersion.objects.get(form=consent)
    response = press(alice_client, consent, "save")
    assert "Nothing was changed." in alice_client.get(response["Location"]).content.decode()
    assert FormVersion.objects.get(form=consent).pk == version.pk
    assert AuditEvent.objects.filter(action=AuditEvent.Action.FORM_CHANGED).count() == 2


def test_editing_an_answered_form_makes_a_new_version_and_says_so(
    alice_client, alice, consent, patient_a
):
    Practice.objects.filter(pk=alice.practice_id).update(forms_enabled=True)
    alice.practice.refresh_from_db()
    form_assign(actor=actor(alice), form=consent, patient=patient_a)
    ada = patient_actor(alice, patient_a)
    submission = submission_submit(
        actor=ada, form=consent, version_number=1, posted={"f-name": "Ada", "f-pick": "Problem"}
    )
    url = reverse("office:form", args=[consent.public_id])
    html = alice_client.get(url).content.decode()
    assert "Patients have answered this version, so saving a change makes version 2" in html

    response = press(alice_client, consent, "save", fields__1__label="Your name")
    page = alice_client.get(response["Location"]).content.decode()
    assert "Saved as version 2; earlier versions are kept with the answers given to them." in page
    assert "Version 2; earlier versions are kept with the answers given to them." in page
    assert "No one has answered this version yet: changes are saved in it." in page
    first, second = FormVersion.objects.filter(form=consent).order_by("number")
    assert first.fields[1]["label"] == "Preferred name"  # what Ada answered, as it was
    assert second.fields[1]["label"] == "Your name"
    submission.refresh_from_db()
    assert submission.version == first
    # A second change while nothing answers version 2 stays in it.
    press(alice_client, consent, "down-0")
    assert FormVersion.objects.filter(form=consent).count() == 2
    # A draft answers a version too.
    Form.objects.filter(pk=consent.pk).update(offered_to_all=True)
    consent.refresh_from_db()
    from tests.conftest import add_patient

    bea = patient_actor(alice, add_patient(alice, "Bea", "Baker"))
    draft_save(actor=bea, form=consent, version_number=2, posted={"f-name": "B"})
    press(alice_client, consent, "save", fields__0__label="Who you are")
    assert FormVersion.objects.filter(form=consent).count() == 3


def test_a_save_over_someone_elses_keeps_what_was_typed_and_saves_nothing(
    alice_client, alice, consent
):
    url = reverse("office:form", args=[consent.public_id])
    values = builder_values(alice_client.get(url).content.decode())
    # Another admin saves meanwhile.
    form_fields_save(
        actor=actor(alice), form=consent, fields=[Field("x", kinds.SHORT_TEXT, "Theirs")]
    )
    values["fields-1-label"] = "Mine"
    response = alice_client.post(url, {**values, "action": "save"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this form’s fields while you were editing them" in html
    assert builder_values(html)["fields-1-label"] == "Mine"
    assert fields_now(consent) == [{"key": "x", "kind": "short_text", "label": "Theirs"}]
    # Saving again, having looked, keeps theirs out and mine in.
    response = alice_client.post(url, {**builder_values(html), "action": "save"})
    assert response.status_code == 302
    assert fields_now(consent)[1]["label"] == "Mine"


def test_a_page_sent_in_part_saves_nothing(alice_client, consent):
    url = reverse("office:form", args=[consent.public_id])
    values = builder_values(alice_client.get(url).content.decode())
    del values["fields-TOTAL_FORMS"]
    response = alice_client.post(url, {**values, "action": "save"})
    assert response.status_code == 400
    assert "The page was not sent whole; nothing was saved." in response.content.decode()
    assert len(fields_now(consent)) == 3


def test_a_form_with_too_many_fields_is_not_saved(alice_client, alice, consent, monkeypatch):
    import clinicportal.office.views.forms as views

    monkeypatch.setattr(views, "MAX_FIELDS", 3)
    response = press(alice_client, consent, "add", new__label="A fourth")
    assert response.status_code == 400
    assert "A form can have at most 3 fields; nothing was saved." in response.content.decode()
    assert len(fields_now(consent)) == 3


def test_a_field_key_that_is_not_a_key_is_refused(alice_client, consent):
    response = press(alice_client, consent, "save", fields__1__key='x" onclick="y')
    assert response.status_code == 400
    assert "This field cannot be saved; please remove it." in unescape(response.content.decode())
    assert fields_now(consent)[1]["key"] == "name"
