"""Search Online: the MedlinePlus client against a local server speaking the service's XML,
and sharing a health topic to a patient's portal as an education link."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.content.models import Blob
from clinicportal.content.services import blob_put_bytes
from clinicportal.records.medlineplus import (
    HealthTopic,
    MedlinePlusUnavailable,
    health_topics_search,
    parse_search_result,
    topic_url,
)
from clinicportal.records.models import PortalDocument
from tests.conftest import PDF_BYTES, free_port, search_params, searched
from tests.test_patient_search_handles import addresses
from tests.test_records import named

GLAUCOMA_URL = "https://medlineplus.gov/glaucoma.html"


def search_url(patient):
    return reverse("office:portal_document_search_online", args=[patient.public_id])


def find(client, patient, term):
    """Search as staff do: post the topic, open the page it leads to (``?s=<handle>``)."""
    return searched(client, search_url(patient), term)


def share_topic(client, patient, title="Glaucoma", url=GLAUCOMA_URL, **extra):
    topic = HealthTopic(title=title, url=url, summary="Glaucoma is a group of diseases.")
    data = {"topic": topic.signed(), "is_education": "on", **extra}
    return client.post(search_url(patient), data)


def test_the_client_asks_for_health_topics_and_keeps_plain_text(medlineplus):
    topics = health_topics_search("glaucoma")
    assert medlineplus.queries == [{"db": ["healthTopics"], "term": ["glaucoma"], "retmax": ["10"]}]
    assert [(t.title, t.url) for t in topics] == [
        ("Glaucoma", GLAUCOMA_URL),
        ("Eye Diseases", "https://medlineplus.gov/eyediseases.html"),
    ]  # the third result is not on MedlinePlus and is dropped
    assert topics[0].summary == (
        "Glaucoma is a group of diseases that can damage the eye's optic nerve and result in "
        "vision loss and blindness. Regular eye exams & early treatment help."
    )
    assert health_topics_search("zzzz") == []


@pytest.mark.parametrize("mode", ["error", "html"])
def test_the_client_says_when_the_service_answers_badly(medlineplus, mode):
    medlineplus.mode = mode
    with pytest.raises(MedlinePlusUnavailable):
        health_topics_search("glaucoma")


def test_a_trickling_answer_is_cut_off_at_the_timeout(medlineplus, settings):
    medlineplus.mode = "slow"  # about 1.3 s in all, each piece well within the timeout
    settings.CLINICPORTAL_MEDLINEPLUS_TIMEOUT = 1
    with pytest.raises(MedlinePlusUnavailable, match="within 1 s"):
        health_topics_search("glaucoma")


def test_the_client_says_when_the_service_cannot_be_reached(settings):
    settings.CLINICPORTAL_MEDLINEPLUS_URL = f"http://127.0.0.1:{free_port()}/ws/query"
    with pytest.raises(MedlinePlusUnavailable):
        health_topics_search("glaucoma")


def test_staff_search_and_share_a_topic_as_an_education_link(medlineplus, bob_client, patient_a):
    page = find(bob_client, patient_a, "glaucoma")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count('class="card topic"') == 2 and "Somewhere else" not in html
    assert "optic nerve" in html and GLAUCOMA_URL in html and "MedlinePlus.gov" in html
    assert "has no portal access yet" in html

    response = share_topic(bob_client, patient_a)
    assert response.status_code == 302
    document = PortalDocument.objects.get()
    assert (document.source, document.link_url, document.filename, document.blob) == (
        "online",
        GLAUCOMA_URL,
        "Glaucoma",
        None,
    )
    assert document.is_education and not Blob.objects.exists()
    assert AuditEvent.objects.filter(action="portal_document.shared", patient=patient_a).exists()
    detail = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert 'class="source-online"' in detail and "MedlinePlus topic" in detail
    opened = bob_client.get(
        reverse("office:portal_document", args=[patient_a.public_id, document.public_id])
    )
    assert opened.status_code == 302 and opened["Location"] == GLAUCOMA_URL


def test_an_empty_search_and_an_unreachable_service_are_said_plainly(
    medlineplus, bob_client, patient_a
):
    assert "has no health topic for" in find(bob_client, patient_a, "zzzz").content.decode()
    medlineplus.mode = "error"
    html = find(bob_client, patient_a, "glaucoma").content.decode()
    assert "MedlinePlus could not be reached just now" in html
    assert not PortalDocument.objects.exists()


def test_the_topic_is_posted_and_the_address_under_the_patient_holds_only_a_handle(
    medlineplus, bob_client, patient_a
):
    url = search_url(patient_a)
    answer = bob_client.post(url, {"q": "glaucoma"})
    assert answer.status_code == 302
    assert re.fullmatch(re.escape(url) + r"\?s=[\w-]+", answer["Location"])
    page = bob_client.get(answer["Location"])
    html = page.content.decode()
    assert 'value="glaucoma"' in html and medlineplus.queries[-1]["term"] == ["glaucoma"]
    ours = [a for a in addresses(html) if not a.startswith("http")]  # not MedlinePlus's links
    assert not [a for a in ours if "glaucoma" in a.lower()]
    assert html.count(f'action="{answer["Location"]}"') == 2  # each share keeps the handle
    assert bob_client.post(url, {"q": "  "})["Location"] == url


def test_opening_a_found_topic_writes_nothing_and_a_lost_handle_says_so(
    medlineplus, bob_client, patient_a
):
    found = search_params(bob_client, search_url(patient_a), "glaucoma")
    bob_client.get(search_url(patient_a), found)
    before = list(Session.objects.values_list("session_key", "session_data", "expire_date"))
    bob_client.get(search_url(patient_a), found)
    response = bob_client.get(search_url(patient_a), {"s": "nosuchxx"})
    assert (
        response.status_code == 200 and "That search is no longer kept" in response.content.decode()
    )
    assert list(Session.objects.values_list("session_key", "session_data", "expire_date")) == before


def test_a_handle_of_another_kind_of_search_names_nothing_here(medlineplus, bob_client, patient_a):
    patients = reverse("office:patients")
    found_patient = search_params(bob_client, patients, "glaucoma")
    asked = len(medlineplus.queries)
    page = bob_client.get(search_url(patient_a), found_patient).content.decode()
    assert "That search is no longer kept" in page and 'value="glaucoma"' not in page
    assert len(medlineplus.queries) == asked  # nothing was looked up
    found_topic = search_params(bob_client, search_url(patient_a), "cataract")
    assert "no longer kept" in bob_client.get(patients, found_topic).content.decode()


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://medlineplus.gov/glaucoma.html", "https://medlineplus.gov/glaucoma.html"),
        ("http://medlineplus.gov/dryeye.html", "https://medlineplus.gov/dryeye.html"),
        ("https://MedlinePlus.gov/a.html?x=1#top", "https://medlineplus.gov/a.html?x=1"),
        ("https://www.nlm.nih.gov/medlineplus/", "https://www.nlm.nih.gov/medlineplus/"),
        ("https://evil.example/glaucoma.html", None),
        ("https://medlineplus.gov.evil.example/", None),
        ("https://evilmedlineplus.gov/", None),
        ("https://evil.example\\@medlineplus.gov/", None),
        ("https://user:pw@medlineplus.gov/", None),
        ("https://medlineplus.gov:8443/", None),
        ("https://medlineplus.gov/a b", None),
        ("https://nih.gov.nlm.nih.gov/", None),
        ("javascript:alert(1)", None),
        ("ftp://medlineplus.gov/", None),
        ("not a url", None),
    ],
)
def test_only_plain_medlineplus_pages_are_kept_and_always_as_https(url, kept):
    assert topic_url(url) == kept


def test_a_link_that_is_not_medlineplus_is_refused_even_when_signed(
    medlineplus, bob_client, patient_a
):
    response = share_topic(bob_client, patient_a, url="https://evil.example\\@medlineplus.gov/")
    assert response.status_code == 400
    assert "Only MedlinePlus health topic pages" in response.content.decode()
    assert not PortalDocument.objects.exists()


def test_a_changed_or_made_up_topic_is_refused(medlineplus, bob_client, patient_a):
    signed = HealthTopic(title="Glaucoma", url=GLAUCOMA_URL, summary="").signed()
    for value in (signed[:-2] + "xx", "{}", ""):
        response = bob_client.post(search_url(patient_a), {"topic": value})
        assert response.status_code == 400
        assert "Please search again" in response.content.decode()
    assert not PortalDocument.objects.exists()


def test_a_topic_title_with_a_slash_is_kept_whole(medlineplus, bob_client, patient_a):
    share_topic(bob_client, patient_a, title="HIV/AIDS and Infections")
    assert PortalDocument.objects.get().filename == "HIV/AIDS and Infections"


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<nlmSearchResult><term>&b;</term></nlmSearchResult>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<nlmSearchResult><term>&e;</term></nlmSearchResult>",
        b'<?xml version="1.0" encoding="no-such-encoding"?><nlmSearchResult/>',
    ],
)
def test_entity_tricks_and_odd_encodings_are_refused(body):
    with pytest.raises(MedlinePlusUnavailable):
        parse_search_result(body)


def test_a_record_is_a_file_or_a_link_never_both_or_neither(bob, patient_a):
    from django.db import IntegrityError, transaction

    blob = blob_put_bytes(
        practice=patient_a.practice, data=PDF_BYTES, content_type="application/pdf"
    )
    common = {
        "practice": patient_a.practice,
        "patient": patient_a,
        "filename": "x",
        "source": "chart",
    }
    for fields in ({"blob": blob, "link_url": GLAUCOMA_URL}, {"blob": None, "link_url": ""}):
        with pytest.raises(IntegrityError), transaction.atomic():
            PortalDocument.objects.create(**common, **fields)
    assert not PortalDocument.objects.exists()


def test_the_patient_opens_the_link_from_records_and_it_shows_in_logs(
    medlineplus, ada_portal, bob_client, patient_a
):
    share_topic(bob_client, patient_a)
    only_links = ada_portal.get("/p/clinic-x/records/").content.decode()
    assert "Open on MedlinePlus" in only_links and "Download all" not in only_links
    bob_client.post(
        reverse("office:portal_document_upload", args=[patient_a.public_id]),
        {"upload": named("exam.pdf", PDF_BYTES), "document_date": "2026-11-21"},
    )
    link = PortalDocument.objects.get(source="online")
    html = ada_portal.get("/p/clinic-x/records/?education=1").content.decode()
    assert "Open on MedlinePlus" in html and "Glaucoma" in html and "Web page" in html
    assert "exam.pdf" not in html and "Download all" in html  # zips every record, not the shown
    opened = ada_portal.get(f"/p/clinic-x/records/{link.public_id}/view")
    assert opened.status_code == 302 and opened["Location"] == GLAUCOMA_URL
    html = ada_portal.get("/p/clinic-x/records/").content.decode()
    assert html.count("badge new") == 1  # the link was opened; the exam was not
    logs = ada_portal.get("/p/clinic-x/logs/").content.decode()
    assert "viewed “Glaucoma”" in logs  # LOGS name the topic by its title
    archive = ada_portal.get("/p/clinic-x/records/all.zip")
    names = zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))).namelist()
    assert names == ["2026-11-21 exam.pdf"]  # a link has no file to put in the ZIP


def test_a_link_can_be_assigned_to_another_patient_and_removed(
    medlineplus, bob_client, patient_a, patient_b
):
    share_topic(bob_client, patient_a)
    original = PortalDocument.objects.get()
    url = reverse("office:portal_document_assign_other", args=[patient_b.public_id])
    bob_client.post(f"{url}?from={patient_a.public_id}", {"document": str(original.public_id)})
    copy = PortalDocument.objects.get(patient=patient_b)
    assert (copy.source, copy.link_url) == ("other_patient", GLAUCOMA_URL)
    remove = reverse(
        "office:portal_document_remove", args=[patient_a.public_id, original.public_id]
    )
    assert bob_client.post(remove).status_code == 302
    assert list(PortalDocument.objects.all()) == [copy]


def test_another_practice_and_another_patient_get_404(
    medlineplus, carol_client, bob_client, ada_portal, patient_a, patient_b
):
    assert carol_client.post(search_url(patient_a), {"q": "glaucoma"}).status_code == 404
    assert carol_client.get(search_url(patient_a)).status_code == 404
    assert share_topic(carol_client, patient_a).status_code == 404
    assert not PortalDocument.objects.exists()
    share_topic(bob_client, patient_b)
    other = PortalDocument.objects.get()
    assert ada_portal.get(f"/p/clinic-x/records/{other.public_id}/view").status_code == 404
