"""Admin → Messages: the response time and the categories patients choose from."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.messaging.models import Category, MessagingSettings
from clinicportal.messaging.selectors import categories_offered, messaging_settings_for
from clinicportal.practices.models import StaffMember
from tests.conftest import login

URL = reverse("office:settings_messages")


def posted(
    response_time: str = "within 2 business days",
    names: dict[str, str] | None = None,
    off: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The form as a browser sends it: every name field, and only the boxes left checked."""
    data: dict[str, Any] = {"response_time": response_time}
    data["offered"] = [value for value in Category.values if value not in off]
    for value in Category.values:
        data[f"name_{value}"] = (names or {}).get(value, "")
    return data


def test_the_page_shows_the_defaults_before_anything_is_saved(alice_client):
    page = alice_client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="within 2 business days"' in html
    assert "Leave it blank for “Glasses or contacts”." in html
    assert html.count('name="offered"') == 6 and html.count("checked") == 6
    assert f'href="{URL}" aria-current="page"' in html  # in the Admin navigation


def test_saved_settings_read_back_on_the_page_and_for_patients(alice_client, alice):
    response = alice_client.post(
        URL,
        posted(
            "within one business day",
            names={"optical": "  Glasses  and contact lens orders ", "billing": ""},
            off=("billing",),
        ),
        follow=True,
    )
    assert response.redirect_chain == [(URL, 302)]
    assert "The message settings were saved." in response.content.decode()
    config = messaging_settings_for(alice.practice)
    assert config.response_time == "within one business day"
    assert config.category_names == {"optical": "Glasses and contact lens orders"}
    assert config.categories_off == ["billing"]
    offered = dict(categories_offered(config))
    assert "billing" not in offered
    assert offered["optical"] == "Glasses and contact lens orders"
    assert offered["appointment"] == "Appointment"  # a blank name is the default
    html = alice_client.get(URL).content.decode()
    assert 'value="within one business day"' in html
    assert 'value="Glasses and contact lens orders"' in html
    assert 'value="billing"' in html and html.count("checked") == 5


def test_a_blank_name_goes_back_to_the_default(alice_client, alice):
    alice_client.post(URL, posted(names={"refill": "Refills"}))
    assert dict(categories_offered(messaging_settings_for(alice.practice)))["refill"] == "Refills"
    alice_client.post(URL, posted(names={"refill": "   "}))
    config = messaging_settings_for(alice.practice)
    assert config.category_names == {}
    assert dict(categories_offered(config))["refill"] == "Prescription refill"


def test_switching_a_category_back_on_offers_it_again(alice_client, alice):
    alice_client.post(URL, posted(off=("clinical", "other")))
    offered = [value for value, _ in categories_offered(messaging_settings_for(alice.practice))]
    assert offered == ["appointment", "billing", "refill", "optical"]
    alice_client.post(URL, posted())
    offered = [value for value, _ in categories_offered(messaging_settings_for(alice.practice))]
    assert offered == Category.values


def test_every_category_off_is_refused_next_to_the_boxes_and_nothing_is_saved(alice_client):
    response = alice_client.post(URL, posted("within a week", off=tuple(Category.values)))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_offered_error"' in html
    assert "Please leave at least one category on." in html
    assert 'value="within a week"' in html  # what was typed is kept
    assert not MessagingSettings.objects.exists()
    assert not AuditEvent.objects.filter(action="messaging.settings_changed").exists()


def test_a_blank_response_time_and_every_category_off_are_both_named(alice_client):
    response = alice_client.post(URL, posted("  ", off=tuple(Category.values)))
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "response_time": ["Please say how soon patients can expect a reply."],
        "offered": ["Please leave at least one category on."],
    }
    assert not MessagingSettings.objects.exists()
    assert not AuditEvent.objects.filter(action="messaging.settings_changed").exists()


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        (posted("   "), "response_time", "Please say how soon patients can expect a reply."),
        (posted("x" * 101), "response_time", "at most 100 characters"),
        (posted(names={"other": "y" * 61}), "name_other", "at most 60 characters"),
        ({**posted(), "offered": ["appointment", "bogus"]}, "offered", "not one of"),
    ],
)
def test_bad_input_says_what_is_wrong_and_saves_nothing(alice_client, data, field, error):
    response = alice_client.post(URL, data)
    assert response.status_code == 400
    assert error in response.context["form"].errors[field][0]
    assert not MessagingSettings.objects.exists()


def test_saving_records_who_changed_the_settings(alice_client, alice):
    alice_client.post(URL, posted(off=("billing",)))
    event = AuditEvent.objects.get(action="messaging.settings_changed")
    assert event.practice_id == alice.practice.pk
    assert event.actor_name == alice.display_name


def test_staff_who_are_not_admins_cannot_open_or_save(bob_client, carol_client):
    for staff in (bob_client, carol_client):
        assert staff.get(URL).status_code == 403
        assert staff.post(URL, posted(off=("billing",))).status_code == 403
    assert not MessagingSettings.objects.exists()
    html = bob_client.get(reverse("office:patients")).content.decode()
    assert URL not in html


def test_another_practices_admin_changes_only_their_own(alice_client, alice, practice_y):
    yvonne = StaffMember.objects.select_related("user").get(user__username="yvonne")
    yvonne_client = login(Client(), yvonne)  # the admin of practice Y
    alice_client.post(URL, posted("within one business day", off=("billing",)))
    yvonne_client.post(URL, posted("within 3 days", names={"other": "Anything else"}))
    mine = messaging_settings_for(alice.practice)
    theirs = messaging_settings_for(practice_y)
    assert (mine.response_time, mine.categories_off, mine.category_names) == (
        "within one business day",
        ["billing"],
        {},
    )
    assert (theirs.response_time, theirs.categories_off, theirs.category_names) == (
        "within 3 days",
        [],
        {"other": "Anything else"},
    )
    assert 'value="within one business day"' in alice_client.get(URL).content.decode()
    assert 'value="within 3 days"' in yvonne_client.get(URL).content.decode()
