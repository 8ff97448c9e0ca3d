"""Errors are tied to the fields they are about, so a screen reader hears them there."""

from __future__ import annotations

from html.parser import HTMLParser

from django.test import Client
from django.urls import reverse

from tests.conftest import NEW_PASSWORD, PASSWORD, enrol_authenticator, portal_login
from tests.test_two_factor import turn_on


class Page(HTMLParser):
    """Each element's attributes by id, and the text inside each element with an id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.attrs: dict[str, dict[str, str | None]] = {}
        self.text: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        element_id = found.get("id")
        if element_id:
            self.attrs[element_id] = found
            self.text.setdefault(element_id, "")
        if tag not in {"input", "br", "img", "meta", "link"}:
            self._open.append((tag, element_id))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, element_id in self._open:
            if element_id:
                self.text[element_id] += data

    def description(self, field_id: str) -> str:
        """The text that aria-describedby points a field at."""
        ids = (self.attrs[field_id].get("aria-describedby") or "").split()
        return " ".join(self.text[i] for i in ids)


def assert_tied(page: Page, field_id: str, message: str) -> None:
    assert page.attrs[field_id].get("aria-invalid") == "true", field_id
    assert message in page.description(field_id), field_id


def test_a_wrong_office_password_marks_both_fields(client, alice):
    response = client.post(reverse("office:login"), {"username": "alice", "password": "nope"})
    page = Page(response.content.decode())
    for field_id in ("id_username", "id_password"):
        assert_tied(page, field_id, "That username and password do not match.")


def test_a_wrong_portal_password_marks_both_fields(client, practice_x, patient_a, issue_access):
    issue_access(patient_a, "ada")
    response = portal_login(client, practice_x, "ada", "nope")
    page = Page(response.content.decode())
    for field_id in ("id_username", "id_password"):
        assert_tied(page, field_id, "That username and password do not match.")


def test_the_sign_in_fields_are_plain_before_a_mistake(client, practice_x):
    for url in (reverse("office:login"), f"/p/{practice_x.slug}/login/"):
        page = Page(client.get(url).content.decode())
        assert "aria-invalid" not in page.attrs["id_password"]
        assert "aria-describedby" not in page.attrs["id_password"]


def test_a_wrong_office_code_is_tied_to_the_code_field(client, alice):
    enrol_authenticator(alice)
    client.post(reverse("office:login"), {"username": "alice", "password": PASSWORD})
    response = client.post(reverse("office:login_code"), {"code": "000000"})
    page = Page(response.content.decode())
    assert_tied(page, "id_code", "That code did not work.")
    assert "authenticator app shows" in page.description("id_code")  # the help text stays


def test_a_wrong_portal_code_is_tied_to_the_code_field(ada_portal, practice_x):
    turn_on(ada_portal)
    visitor = Client()
    portal_login(visitor, practice_x, "ada", NEW_PASSWORD)
    response = visitor.post(f"/p/{practice_x.slug}/login/code/", {"code": "000000"})
    assert_tied(Page(response.content.decode()), "id_code", "That code did not work.")


def test_a_missing_field_elsewhere_is_tied_to_its_field(bob_client):
    response = bob_client.post(reverse("office:patient_create"), {"first_name": "Rosalind"})
    page = Page(response.content.decode())
    assert_tied(page, "id_last_name", "This field is required.")
    assert "aria-invalid" not in page.attrs["id_first_name"]


def test_an_optional_multiple_file_field_takes_no_files():
    from clinicportal.core.forms import MultipleFileField

    assert MultipleFileField(required=False).clean([]) == []


def test_a_one_time_key_is_new_each_time_the_form_is_shown():
    from django import forms

    from clinicportal.core.forms import OneTimeKeyField

    class Form(forms.Form):
        key = OneTimeKeyField()

    first, second = Form()["key"].value(), Form()["key"].value()
    assert first and second and first != second
    assert Form({"key": first})["key"].value() == first
