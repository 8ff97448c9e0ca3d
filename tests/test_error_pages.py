"""Error pages: the site's frame, a kind sentence, a way back, and nothing that can fail again."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD


def landmarks(html: str) -> None:
    assert re.search(r"<header[ >]", html) and re.search(r"<main[ >]", html)
    assert "<h1>" in html


def test_an_unknown_office_page_has_the_frame_and_a_way_back_to_the_office(bob_client):
    response = bob_client.get("/office/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    landmarks(html)
    assert "Page not found" in html
    assert f'href="{reverse("office:home")}"' in html


def test_another_practices_patient_gets_the_same_page_as_an_unknown_id(carol_client, patient_a):
    foreign = carol_client.get(reverse("office:patient", args=[patient_a.public_id]))
    unknown = carol_client.get(reverse("office:patient", args=[uuid.uuid4()]))
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.content == unknown.content
    assert b"Page not found" in foreign.content


def test_an_unknown_portal_page_leads_back_to_that_practices_portal(client, practice_x):
    response = client.get(f"/p/{practice_x.slug}/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    landmarks(html)
    assert f'href="{reverse("portal:home", args=[practice_x.slug])}"' in html


def test_an_unknown_address_elsewhere_says_how_to_find_the_way(client, db):
    response = client.get("/no-such-page")
    html = response.content.decode()
    assert response.status_code == 404
    landmarks(html)
    assert "portal link your practice gave you" in html
    assert f'href="{reverse("office:login")}"' in html


def test_an_unknown_api_address_answers_in_json(client, db):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "nothing at this address" in response.json()["error"]


def test_staff_who_may_not_open_admin_get_a_kind_403_page(bob_client):
    response = bob_client.get(reverse("office:settings_website"))
    html = response.content.decode()
    assert response.status_code == 403
    landmarks(html)
    assert "practice admin" in html
    assert f'href="{reverse("office:home")}"' in html


def test_an_expired_form_gets_a_kind_csrf_page(db, alice):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("office:login"), {"username": "alice", "password": PASSWORD})
    html = response.content.decode()
    assert response.status_code == 403
    landmarks(html)
    assert "reload the page" in html
    assert f'href="{reverse("office:home")}"' in html


def test_a_bad_request_gets_the_framed_400_page(client, db):
    response = client.get("/office/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    landmarks(response.content.decode())


@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize(
    ("path", "back"),
    [
        ("/office/broken/", "/office/"),
        ("/p/clinic-x/broken/", "/p/clinic-x/"),
        ("/broken/", "/office/login/"),
    ],
)
def test_a_server_error_page_needs_no_database(path, back, django_assert_num_queries, db):
    client = Client(raise_request_exception=False)
    with django_assert_num_queries(0):
        response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 500
    landmarks(html)
    assert "Something went wrong on our side" in html
    assert f'href="{back}"' in html
    assert "a bug" not in html
