"""Never doubled: a form sent twice (a double click, a retried request) takes effect once.

Create forms carry a one-time token; two posts with the same token, even at the same moment,
make one thing and both land on the first's answer. The concurrency tests post from two real
threads to the live server, with one session cookie, as a browser would.
"""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse

from clinicportal.notifications.models import OutboxEmail
from clinicportal.patients.models import ChartFile, Patient
from clinicportal.practices.models import SystemDocument
from clinicportal.records.models import PortalDocument
from tests.conftest import (
    PDF_BYTES,
    actor,
    add_chart_pdf,
    add_guardian,
    run_worker,
)
from tests.races import hidden_fields, post_twice_at_once, signed_in

LINK = re.compile(r"http://testserver(/p/clinic-x/password/[\w-]+/)")


def _link_in(message) -> str:
    found = LINK.search(message.get_body(("plain",)).get_content())
    assert found is not None
    return found.group(1)


@pytest.mark.django_db(transaction=True)
def test_only_the_newest_set_password_link_works(
    alice_client, patient_a, email_settings, smtp_server, issue_access
):
    issue_access(patient_a, "ada")
    url = reverse("office:portal_access_email", args=[patient_a.public_id])
    assert alice_client.post(url).status_code == 302
    assert alice_client.post(url).status_code == 302  # pressed again, on purpose
    run_worker()
    older, newer = (_link_in(m) for m in smtp_server.messages)
    assert older != newer
    patient = Client()
    ended = patient.get(older)
    assert ended.status_code == 410
    assert "A newer link was sent" in ended.content.decode()
    new = "quiet-harbor-lamp-2044"
    refused = patient.post(older, {"new_password": new, "confirm_password": new})
    assert refused.status_code == 410
    assert patient.post(newer, {"new_password": new, "confirm_password": new}).status_code == 302
    assert patient.post("/p/clinic-x/login/", {"username": "ada", "password": new}).status_code == (
        302
    )


@pytest.mark.django_db(transaction=True)
def test_a_new_reset_link_ends_the_earlier_one_but_not_the_office_link(
    alice_client, patient_a, ada_portal, email_settings, smtp_server
):
    alice_client.post(reverse("office:portal_access_email", args=[patient_a.public_id]))
    run_worker()
    for _ in range(2):
        Client().post("/p/clinic-x/forgot/", {"identifier": "ada"})
        run_worker()
    office, first_reset, second_reset = (_link_in(m) for m in smtp_server.messages)
    patient = Client()
    assert patient.get(first_reset).status_code == 410
    assert patient.get(second_reset).status_code == 200
    # An anonymous "Forgot your password?" cannot end the link the office sent.
    assert patient.get(office).status_code == 200


# -- Two identical posts at once, from two threads against the live server -------------------


@pytest.mark.parametrize("form", ["share", "chart upload", "portal upload", "email access"])
@pytest.mark.django_db(transaction=True)
def test_two_identical_posts_at_once_make_one_thing(
    live_server, alice, patient_a, email_settings, issue_access, form
):
    issue_access(patient_a, "ada")
    patient_page = reverse("office:patient", args=[patient_a.public_id])
    data = {"document_date": "2026-11-20", "description": "Your exam"}
    files = None
    if form == "share":
        chart_file = add_chart_pdf(alice, patient_a)
        page = url = reverse(
            "office:portal_document_share", args=[patient_a.public_id, chart_file.public_id]
        )
        made = PortalDocument.objects.count
    elif form == "chart upload":
        page = url = reverse("office:chart_file_upload", args=[patient_a.public_id])
        files = {"uploads": ("exam.pdf", PDF_BYTES, "application/pdf")}
        made = ChartFile.objects.count
    elif form == "portal upload":
        page = url = reverse("office:portal_document_upload", args=[patient_a.public_id])
        files = {"upload": ("exam.pdf", PDF_BYTES, "application/pdf")}
        made = PortalDocument.objects.count
    else:
        page, url = patient_page, reverse("office:portal_access_email", args=[patient_a.public_id])
        data = {}
        made = OutboxEmail.objects.count
    browser = signed_in(alice)
    html = browser.get(live_server.url + page, timeout=30).text
    fields = hidden_fields(html, 'name="document_date"' if page == url else f'action="{url}"')
    assert made() == 0
    first, second = post_twice_at_once(browser, live_server.url + url, {**fields, **data}, files)
    assert (first.status_code, second.status_code) == (302, 302)
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].startswith(patient_page)
    assert made() == 1


# -- The same post again, one after the other, for every create form -------------------------


def _add_patient(**_):
    url = reverse("office:patient_create")
    data = {"first_name": "Grace", "last_name": "Hopper", "date_of_birth": "1906-12-09"}
    count = Patient.objects.filter(first_name="Grace").count
    return url, 'name="first_name"', url, data, count


def _link_authorized_user(patient_a, alice, patient_b, **_):
    add_guardian(alice, patient_b)
    page = reverse("office:authorized_user_add", args=[patient_a.public_id])
    url = reverse("office:authorized_user_link", args=[patient_a.public_id])
    data = {"username": "mary", "note": "aunt"}
    return page, f'action="{url}"', url, data, patient_a.portal_grants.count


def _assign_from_library(patient_a, alice_client, **_):
    library = reverse("office:settings_library_add")
    alice_client.post(library, {"upload": upload("glaucoma.pdf"), "description": "Glaucoma"})
    url = reverse("office:portal_document_assign_system", args=[patient_a.public_id])
    data = {"document": str(SystemDocument.objects.get().public_id), "is_education": "on"}
    return url, 'name="document"', url, data, PortalDocument.objects.count


def _assign_from_other_patient(patient_a, alice, patient_b, **_):
    from clinicportal.records.services import portal_document_share_chart_file

    chart_file = add_chart_pdf(alice, patient_b, "handout.pdf", "Handout")
    handout = portal_document_share_chart_file(
        actor=actor(alice),
        chart_file=chart_file,
        document_date=chart_file.document_date,
        description="Handout",
        is_education=True,
    )
    url = reverse("office:portal_document_assign_other", args=[patient_a.public_id])
    page = f"{url}?from={patient_b.public_id}&document={handout.public_id}"
    url = f"{url}?from={patient_b.public_id}"
    data = {"document": str(handout.public_id), "is_education": "on"}
    return page, 'name="document"', url, data, patient_a.portal_documents.count


def _share_a_health_topic(patient_a, alice_client, request, **_):
    request.getfixturevalue("medlineplus")
    url = reverse("office:portal_document_search_online", args=[patient_a.public_id])
    url = alice_client.post(url, {"q": "glaucoma"})["Location"]  # ?s=<handle>
    return url, 'name="topic"', url, {}, PortalDocument.objects.count


def _add_to_library(**_):
    page = reverse("office:settings_website")
    url = reverse("office:settings_library_add")
    data = {"description": "About glaucoma"}
    return page, f'action="{url}"', url, data, SystemDocument.objects.count


def _send_a_test_email(**_):
    url = reverse("office:settings_email")
    data = {"action": "test", "to": "alice@example.com"}
    return url, 'name="to"', url, data, OutboxEmail.objects.count


def named(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def upload(name: str) -> io.BytesIO:
    return named(name, PDF_BYTES)


@pytest.mark.parametrize(
    "form",
    [
        _add_patient,
        _link_authorized_user,
        _assign_from_library,
        _assign_from_other_patient,
        _share_a_health_topic,
        _add_to_library,
        _send_a_test_email,
    ],
    ids=lambda form: form.__name__.strip("_"),
)
def test_the_same_post_again_answers_as_the_first_and_makes_nothing_more(
    alice_client, alice, patient_a, patient_b, email_settings, request, form
):
    page, marker, url, data, made = form(
        patient_a=patient_a,
        patient_b=patient_b,
        alice=alice,
        alice_client=alice_client,
        request=request,
    )
    fields = hidden_fields(alice_client.get(page).content.decode(), marker)
    assert "submission" in fields
    before = made()
    answers = []
    for _ in range(2):
        files = {"upload": upload("glaucoma.pdf")} if "library" in url else {}
        answers.append(alice_client.post(url, {**fields, **data, **files}))
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0]["Location"] == answers[1]["Location"]
    assert made() == before + 1


def add_patient_form(token: str | None) -> dict[str, str]:
    data = {"first_name": "Grace", "last_name": "Hopper", "date_of_birth": "1906-12-09"}
    return {**data, "submission": token} if token else data


def test_a_token_another_user_sent_is_refused_without_writing(alice_client, bob_client):
    url = reverse("office:patient_create")
    assert alice_client.post(url, add_patient_form("tok3n")).status_code == 302
    refused = bob_client.post(url, add_patient_form("tok3n"))
    assert refused.status_code == 409
    assert "This form was already sent" in refused.content.decode()
    assert Patient.objects.filter(first_name="Grace").count() == 1


def test_a_post_without_a_token_is_taken_as_a_new_one(alice_client):
    # Pages loaded before tokens existed, and scripts, keep working as they did.
    url = reverse("office:patient_create")
    for _ in range(2):
        assert alice_client.post(url, add_patient_form(None)).status_code == 302
    assert Patient.objects.filter(first_name="Grace").count() == 2


def test_a_refused_write_leaves_its_token_free_for_the_corrected_form(alice_client, patient_a):
    url = reverse("office:chart_file_upload", args=[patient_a.public_id])
    form = {"document_date": "2026-11-20", "description": "Exam", "submission": "tok3n"}
    refused = alice_client.post(url, {**form, "uploads": named("bad.pdf", b"MZ\x90\x00")})
    assert refused.status_code == 400 and not ChartFile.objects.exists()
    accepted = alice_client.post(url, {**form, "uploads": upload("exam.pdf")})
    assert accepted.status_code == 302 and ChartFile.objects.count() == 1


def test_sweep_forgets_tokens_after_a_day_and_slips_after_minutes(alice_client, patient_a):
    import datetime

    from django.core.management import call_command
    from django.utils import timezone

    from clinicportal.accounts.models import FormSubmission

    alice_client.post(reverse("office:patient_create"), add_patient_form("old"))
    form = {"action": "issue", "username": "ada", "password": "", "submission": "slip"}
    alice_client.post(reverse("office:portal_access", args=[patient_a.public_id]), form)
    old, slip = FormSubmission.objects.order_by("pk")
    FormSubmission.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1, minutes=1)
    )
    FormSubmission.objects.filter(pk=slip.pk).update(
        private_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    out = io.StringIO()
    call_command("sweep", stdout=out)
    (kept,) = FormSubmission.objects.all()
    assert kept.pk == slip.pk and kept.private == ""
    assert "Forgot 1 sent-form tokens older than a day." in out.getvalue()
