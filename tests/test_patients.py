"""Creating, editing and finding patients."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.patients.models import Patient
from clinicportal.patients.search import parse_query
from tests.conftest import add_patient, search_params, searched

PATIENTS = "/office/patients/"

VALID = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "date_of_birth": "1906-12-09",
    "email": "grace@example.com",
    "phone": "+1 (207) 555-0199",
    "address_line1": "1 Navy Way",
    "city": "Arlington",
    "region": "VA",
    "postal_code": "22202",
}


def test_staff_add_a_patient_and_it_is_recorded(bob_client, bob):
    response = bob_client.post(reverse("office:patient_create"), VALID)
    patient = Patient.objects.get(last_name="Hopper")
    assert response.status_code == 302
    assert response["Location"] == reverse("office:patient", args=[patient.public_id])
    assert patient.practice == bob.practice
    assert patient.phone_digits == "2075550199"
    event = AuditEvent.objects.get(action="patient.created")
    assert (event.actor_user, event.patient, event.practice) == (bob.user, patient, bob.practice)
    assert event.ip == "127.0.0.1"


def test_a_form_with_mistakes_says_what_is_wrong_and_keeps_what_was_typed(bob_client):
    data = {**VALID, "last_name": "", "email": "not-an-email", "date_of_birth": "2999-01-01"}
    response = bob_client.post(reverse("office:patient_create"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in html
    assert "Enter a valid email address." in html
    assert "cannot be in the future" in html
    assert 'value="Grace"' in html
    assert 'value="not-an-email"' in html
    assert Patient.objects.count() == 0


def test_an_impossible_date_is_refused(bob_client):
    response = bob_client.post(
        reverse("office:patient_create"), {**VALID, "date_of_birth": "1980-02-31"}
    )
    assert "Enter a valid date." in response.content.decode()
    assert Patient.objects.count() == 0


def test_names_with_markup_show_as_text(bob_client):
    bob_client.post(
        reverse("office:patient_create"), {**VALID, "first_name": "<img src=x onerror=alert(1)>"}
    )
    html = bob_client.get(reverse("office:patients")).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_staff_edit_a_patient(bob_client, patient_a):
    url = reverse("office:patient_edit", args=[patient_a.public_id])
    assert 'value="Lovelace"' in bob_client.get(url).content.decode()
    response = bob_client.post(url, {**VALID, "first_name": "Augusta Ada", "last_name": "King"})
    assert response.status_code == 302
    patient_a.refresh_from_db()
    assert (patient_a.first_name, patient_a.last_name, patient_a.last_name_key) == (
        "Augusta Ada",
        "King",
        "king",
    )
    assert AuditEvent.objects.filter(action="patient.updated", patient=patient_a).exists()


def test_a_bad_edit_changes_nothing(bob_client, patient_a):
    url = reverse("office:patient_edit", args=[patient_a.public_id])
    response = bob_client.post(url, {**VALID, "first_name": ""})
    assert response.status_code == 200
    patient_a.refresh_from_db()
    assert patient_a.first_name == "Ada"


def test_viewing_a_patient_shows_the_sections_and_is_recorded(bob_client, bob, patient_a):
    html = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    for section in ("Files", "Online Portal", "Billing"):
        assert f">{section}</h2>" in html
    # The id programs name the patient by, in words the front desk can read.
    assert (
        "Patient id, for programs that put documents on the portal (Admin → API keys): "
        f"<code data-patient-id>{patient_a.public_id}</code>"
    ) in html
    assert "print-to-portal" not in html
    assert AuditEvent.objects.filter(
        action="patient.viewed", patient=patient_a, actor_user=bob.user
    ).exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("love", ["Lovelace, Ada"]),
        ("LOVE", ["Lovelace, Ada"]),
        ("ada", ["Lovelace, Ada"]),
        ("lovelace, a", ["Lovelace, Ada"]),
        ("ada lovelace", ["Lovelace, Ada"]),
        ("pascal", ["Pascal, Blaise"]),
        ("1962-06-19", ["Pascal, Blaise"]),
        ("06/19/1962", ["Pascal, Blaise"]),
        ("207-555-0134", ["Lovelace, Ada"]),
        ("(207) 555", ["Lovelace, Ada"]),
        ("555-0134", ["Lovelace, Ada"]),  # without its area code: by its end
        ("0134", ["Lovelace, Ada"]),
        ("zzz", []),
        ("", ["Lovelace, Ada", "Pascal, Blaise"]),
    ],
)
def test_search_by_name_date_of_birth_or_phone(bob_client, patient_a, patient_b, query, expected):
    response = searched(bob_client, PATIENTS, query)
    names = [p.sort_name for p in response.context["page"].object_list]
    assert names == expected


def test_search_folds_accents(bob_client, bob):
    add_patient(bob, "Zoë", "Ñúñez")
    response = searched(bob_client, PATIENTS, "nunez")
    assert [p.last_name for p in response.context["page"].object_list] == ["Ñúñez"]


def test_parse_query_reads_what_staff_type():
    assert parse_query("1984-03-27").date_of_birth == datetime.date(1984, 3, 27)
    assert parse_query("+1 207 555 0134").phone_prefix == "2075550134"
    assert parse_query("Smith, Jo").names == ("smith", "jo")
    assert parse_query("  ").is_empty


def test_the_list_is_paginated(bob_client, bob):
    for i in range(30):
        add_patient(bob, f"P{i:02d}", "Sample")
    first = bob_client.get(reverse("office:patients"))
    second = bob_client.get(reverse("office:patients"), {"page": 2})
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5
    assert b"Page 2 of 2" in second.content
    assert bob_client.get(reverse("office:patients"), {"page": "nonsense"}).status_code == 200


def test_the_list_runs_the_same_number_of_queries_for_3_or_25_patients(bob_client, bob):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert bob_client.get(reverse("office:patients")).status_code == 200
        return len(queries)

    for i in range(3):
        add_patient(bob, f"Few{i}", "Sample")
    count()  # the first page after sign-in stamps the session's use
    few = count()
    for i in range(22):
        add_patient(bob, f"Many{i}", "Sample")
    assert count() == few


def test_last_name_matches_come_first_then_first_name_matches_across_pages(bob_client, bob):
    for i in range(27):
        add_patient(bob, f"Pat{i:02d}", "Joyce")
    for i in range(3):
        add_patient(bob, "Jonah", f"Zed{i}")
    first = searched(bob_client, PATIENTS, "jo")
    second = searched(bob_client, PATIENTS, "jo", page=2)
    names = [p.sort_name for p in first.context["page"].object_list]
    names += [p.sort_name for p in second.context["page"].object_list]
    assert names == [f"Joyce, Pat{i:02d}" for i in range(27)] + [f"Zed{i}, Jonah" for i in range(3)]
    assert "First name starts with “jo”" in second.content.decode()
    assert "First name starts with" not in first.content.decode()
    assert b"30 patients" in first.content


def test_a_broad_search_counts_no_further_than_it_needs(bob_client, bob):
    from clinicportal.demo.data import patients_generate

    patients_generate(practice=bob.practice, count=1001)
    response = bob_client.get(reverse("office:patients"))
    assert b"More than 1,000 patients." in response.content
    assert response.context["page"].paginator.num_pages == 40
    last = bob_client.get(reverse("office:patients"), {"page": 999})
    assert last.context["page"].number == 40


def _patient_counts(client, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("office:patients"), params).status_code == 200
    return sum(
        1
        for q in queries
        if q["sql"].startswith("SELECT COUNT(*)") and "patients_patient" in q["sql"]
    )


def test_a_later_page_of_a_search_counts_no_more_than_the_first(bob_client, bob):
    for i in range(27):
        add_patient(bob, f"Pat{i:02d}", "Joyce")
    for i in range(3):
        add_patient(bob, "Jonah", f"Zed{i}")
    for params in (search_params(bob_client, PATIENTS, "jo"), {}):
        first = _patient_counts(bob_client, params)
        assert _patient_counts(bob_client, {**params, "page": "2"}) == first


SORTING_NAMES = [
    ("Zoë", "Ñúñez"),
    ("Ada", "Åberg"),
    ("Bo", "O'Brien"),
    ("Cy", "de la Cruz"),
    ("Di", "Über"),
    ("Ed", "Smith"),
    ("Ed", "Smith"),
    ("Al", "Smith"),
    ("Ål", "Smith-Jones"),
    ("Fay", "Nunez"),
]


def _shown(client, params: dict[str, str]) -> list[str]:
    response = client.get(reverse("office:patients"), params)
    return [str(p.public_id) for p in response.context["page"].object_list]


@pytest.mark.parametrize("sort_limit", [5000, 10])
@pytest.mark.parametrize("query", ["(207) 555", "1975-05-06"])
def test_phone_and_birth_date_searches_show_name_order_on_every_page(
    bob_client, bob, monkeypatch, sort_limit, query
):
    from clinicportal.patients import selectors

    monkeypatch.setattr(selectors, "SORT_LIMIT", sort_limit)
    for i in range(40):
        first, last = SORTING_NAMES[i % len(SORTING_NAMES)]
        born = datetime.date(1975, 5, 6) if i % 4 else datetime.date(1980, 1, 1)
        add_patient(bob, first, last, phone=f"(207) 555-{i:04d}", date_of_birth=born)
    add_patient(bob, "Other", "Aaron", phone="(208) 555-0000")
    if query.startswith("("):
        wanted = Patient.objects.filter(phone_digits__startswith="207555")
    else:
        wanted = Patient.objects.filter(date_of_birth=datetime.date(1975, 5, 6))
    expected = [str(p.public_id) for p in wanted.order_by("last_name_key", "first_name_key", "id")]
    found = search_params(bob_client, PATIENTS, query)
    shown = _shown(bob_client, found) + _shown(bob_client, {**found, "page": "2"})
    assert shown == expected
    response = searched(bob_client, PATIENTS, query)
    assert f"{len(expected)} patients".encode() in response.content


def test_a_phone_search_reads_patients_three_times_a_page_however_many_match(bob_client, bob):
    def patient_queries(params: dict[str, str]) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert bob_client.get(reverse("office:patients"), params).status_code == 200
        return sum(1 for q in queries if 'FROM "patients_patient"' in q["sql"])

    add_patient(bob, "Ada", "Lovelace", phone="(207) 555-0001")
    few = patient_queries(search_params(bob_client, PATIENTS, "207 555"))
    for i in range(30):
        add_patient(bob, f"P{i:02d}", "Sample", phone=f"(207) 555-{i + 10:04d}")
    again = search_params(bob_client, PATIENTS, "207 555")
    other = search_params(bob_client, PATIENTS, "207555")
    assert few == patient_queries(again) == patient_queries({**other, "page": "2"})
    assert few == 3  # the matches from the number's start, from its end, then the page


@pytest.mark.parametrize("sort_limit", [5000, 10])
def test_a_phone_search_finds_a_number_by_its_start_or_its_end_once_each(
    bob_client, bob, monkeypatch, sort_limit
):
    """'207' starts (207) 555-1207 and ends it: one row. With fewer kept for sorting than
    match (sort_limit 10), the page walks the names for either way, and lists it once too."""
    from clinicportal.patients import selectors

    monkeypatch.setattr(selectors, "SORT_LIMIT", sort_limit)
    both = add_patient(bob, "Both", "Ways", phone="(207) 555-1207")
    for i in range(6):
        add_patient(bob, f"Start{i}", "Area", phone=f"(207) 444-{i:04d}")
        add_patient(bob, f"End{i}", "Local", phone=f"(31{i}) 444-0207")
    add_patient(bob, "Neither", "Way", phone="(312) 207-4444")
    shown = _shown(bob_client, search_params(bob_client, PATIENTS, "207"))
    wanted = Patient.objects.exclude(first_name="Neither").order_by(
        "last_name_key", "first_name_key", "id"
    )
    assert shown == [str(p.public_id) for p in wanted]
    assert shown.count(str(both.public_id)) == 1
    assert b"13 patients" in searched(bob_client, PATIENTS, "207").content


@pytest.mark.parametrize("query", ["jo smith", "smith, jo", "smith smith", "s j"])
def test_two_name_searches_show_name_order_on_every_page(bob_client, bob, query):
    from django.db.models import Q

    from clinicportal.patients.search import name_key

    for i in range(12):
        add_patient(bob, f"Jo{i:02d}", "Smith")
        add_patient(bob, "Smith", f"Jones{i:02d}")
        add_patient(bob, "Smithy", "Smithson" if i % 2 else "Smith")
        add_patient(bob, "Jó", "Śmith")
    add_patient(bob, "Ann", "Other")
    first, second = (name_key(part) for part in query.replace(",", " ").split())
    either = Q(last_name_key__startswith=first, first_name_key__startswith=second) | Q(
        last_name_key__startswith=second, first_name_key__startswith=first
    )
    wanted = Patient.objects.filter(either).order_by("last_name_key", "first_name_key", "id")
    expected = [str(p.public_id) for p in wanted]
    found = search_params(bob_client, PATIENTS, query)
    shown = _shown(bob_client, found)
    if len(expected) > 25:
        shown += _shown(bob_client, {**found, "page": "2"})
    assert shown == expected
    response = searched(bob_client, PATIENTS, query)
    assert f"{len(expected)} patients".encode() in response.content


def test_search_pages_read_patients_a_bounded_number_of_times(bob_client, bob):
    for i in range(30):
        add_patient(bob, f"Jo{i:02d}", "Smith", phone=f"(207) 555-{i:04d}")
        add_patient(bob, "Smith", f"Jones{i:02d}")

    def patient_queries(params: dict[str, str]) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert bob_client.get(reverse("office:patients"), params).status_code == 200
        return sum(1 for q in queries if 'FROM "patients_patient"' in q["sql"])

    for query, most in (("jo smith", 3), ("", 2), ("smi", 4), ("207 555", 3), ("1980-04-02", 2)):
        found = search_params(bob_client, PATIENTS, query)
        assert patient_queries(found) <= most, query
        assert patient_queries({**found, "page": "2"}) <= most, query
