"""No name, birth date or phone in an address: patient searches are posted, kept by handle.

The terms would otherwise sit in the browser's history, the web server's and the balancer's
access logs and the next request's Referer. The search posts them, the session keeps them under
a random 128-bit handle, and the address carries only ``?s=<handle>``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from urllib.parse import unquote_plus

from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.office.searches import KEPT
from tests.conftest import add_patient, search_params, searched

PATIENTS = "/office/patients/"


def addresses(html: str) -> list[str]:
    """Every link and form address in a page, decoded."""
    return [unquote_plus(a) for a in re.findall(r'(?:href|action)="([^"]*)"', html)]


def test_a_search_is_posted_and_the_address_holds_only_a_handle(bob_client, patient_a, patient_b):
    answer = bob_client.post(PATIENTS, {"q": "Lovelace"})
    assert answer.status_code == 302
    assert re.fullmatch(r"/office/patients/\?s=[\w-]{22}", answer["Location"])
    page = bob_client.get(answer["Location"])
    assert [p.sort_name for p in page.context["page"].object_list] == ["Lovelace, Ada"]
    html = page.content.decode()
    assert 'value="Lovelace"' in html  # the search box shows what was searched
    assert 'method="post"' in html
    assert not [a for a in addresses(html) if "lovelace" in a.lower()]


def test_a_handle_is_128_random_bits_from_the_system_generator(bob_client):
    handles = {search_params(bob_client, PATIENTS, f"term{i}")["s"] for i in range(KEPT)}
    assert len(handles) == KEPT
    for handle in handles:
        assert len(base64.urlsafe_b64decode(handle + "==")) == 16  # secrets.token_urlsafe(16)


def test_birth_dates_and_phone_numbers_stay_out_of_the_address(bob_client, patient_a, patient_b):
    for text in ("1962-06-19", "207-555-0134"):
        answer = bob_client.post(PATIENTS, {"q": text})
        assert text not in unquote_plus(answer["Location"])
        assert len(bob_client.get(answer["Location"]).context["page"].object_list) == 1


def test_pages_of_a_search_carry_its_handle_not_its_terms(bob_client, bob):
    for i in range(30):
        add_patient(bob, f"Pat{i:02d}", "Joyce")
    found = search_params(bob_client, PATIENTS, "joyce")
    first = bob_client.get(PATIENTS, found).content.decode()
    assert f'href="?s={found["s"]}&amp;page=2"' in first
    assert not [a for a in addresses(first) if "joyce" in a.lower()]
    second = bob_client.get(PATIENTS, {**found, "page": 2})
    assert len(second.context["page"].object_list) == 5
    assert f'href="?s={found["s"]}&amp;page=1"' in second.content.decode()


def test_opening_a_search_writes_nothing(bob_client, patient_a):
    found = search_params(bob_client, PATIENTS, "Lovelace")
    bob_client.get(PATIENTS, found)
    before = list(Session.objects.values_list("session_key", "session_data", "expire_date"))
    bob_client.get(PATIENTS, found)
    bob_client.get(PATIENTS, {"s": "unknown1"})
    assert list(Session.objects.values_list("session_key", "session_data", "expire_date")) == before


def test_an_unknown_or_forgotten_handle_shows_the_whole_list_with_a_kind_note(
    bob_client, alice_client, patient_a, patient_b
):
    response = bob_client.get(PATIENTS, {"s": "nosuchxx"})
    assert response.status_code == 200
    assert "That search is no longer kept" in response.content.decode()
    assert len(response.context["page"].object_list) == 2
    # A handle is only good in the session that searched.
    theirs = search_params(alice_client, PATIENTS, "Lovelace")
    response = bob_client.get(PATIENTS, theirs)
    assert "That search is no longer kept" in response.content.decode()
    assert "Lovelace" not in response.context["query"]


def test_the_session_keeps_the_last_few_searches(bob_client, patient_a):
    handles = [search_params(bob_client, PATIENTS, f"term{i}") for i in range(KEPT + 1)]
    assert "no longer kept" in bob_client.get(PATIENTS, handles[0]).content.decode()
    for i, found in enumerate(handles[1:], start=1):
        assert bob_client.get(PATIENTS, found).context["query"] == f"term{i}"
    assert search_params(bob_client, PATIENTS, "term3") == handles[3]  # the same search again


def test_an_empty_search_goes_back_to_the_whole_list(bob_client, patient_a):
    answer = bob_client.post(PATIENTS, {"q": "   "})
    assert answer["Location"] == PATIENTS


def test_a_search_page_runs_a_constant_number_of_queries_however_many_match(bob_client, bob):
    def count(params: Mapping[str, str | int]) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert bob_client.get(PATIENTS, params).status_code == 200
        return len(queries)

    for i in range(60):  # two full pages of last-name matches (first names are read after)
        add_patient(bob, f"Few{i}", "Sample")
    found = search_params(bob_client, PATIENTS, "sample")
    count(found)  # the first page after sign-in stamps the session's use
    first, second = count(found), count({**found, "page": 2})
    for i in range(50):
        add_patient(bob, f"Many{i}", "Sample")
    assert (count(found), count({**found, "page": 2})) == (first, second)
    assert count({"s": "nosuchxx"}) <= first  # a forgotten search costs no more


def test_finding_the_other_patient_to_assign_from_is_posted_too(bob_client, patient_a, patient_b):
    url = reverse("office:portal_document_assign_other", args=[patient_a.public_id])
    answer = bob_client.post(url, {"q": "pascal"})
    assert re.fullmatch(re.escape(url) + r"\?s=[\w-]{22}", answer["Location"])
    html = searched(bob_client, url, "pascal").content.decode()
    assert f"?from={patient_b.public_id}" in html and 'value="pascal"' in html
    assert "no longer kept" in bob_client.get(url, {"s": "nosuchxx"}).content.decode()
