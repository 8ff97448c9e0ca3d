"""Files shared to a patient's portal: from the office's side, and under the patient's RECORDS."""

from __future__ import annotations

import io
from urllib.parse import quote, urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.content.blobstore import get_blob_store
from clinicportal.content.models import Blob
from clinicportal.practices.models import SystemDocument
from clinicportal.records.models import PortalDocument
from tests.conftest import (
    GUARDIAN_PASSWORD,
    PDF_BYTES,
    actor,
    add_chart_pdf,
    add_guardian,
    png_bytes,
)


def named(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def share(client, patient, file, **extra):
    url = reverse("office:portal_document_share", args=[patient.public_id, file.public_id])
    data = {"document_date": "2026-11-20", "description": "Your exam", **extra}
    return client.post(url, data)


def upload(client, patient, name, data, **extra):
    url = reverse("office:portal_document_upload", args=[patient.public_id])
    return client.post(url, {"upload": named(name, data), "document_date": "2026-11-21", **extra})


def add_to_library(
    client, name="glaucoma.pdf", data=PDF_BYTES + b"lib", description="About glaucoma"
):
    return client.post(
        reverse("office:settings_library_add"),
        {"upload": named(name, data), "description": description},
    )


def test_sharing_a_chart_file_prefills_the_form_and_stores_nothing_new(bob_client, bob, patient_a):
    file = add_chart_pdf(bob, patient_a)
    url = reverse("office:portal_document_share", args=[patient_a.public_id, file.public_id])
    form = bob_client.get(url).content.decode()
    assert 'value="Annual exam"' in form
    assert (
        "has no portal access yet" in form
        and reverse("office:portal_access", args=[patient_a.public_id]) in form
    )
    response = share(bob_client, patient_a, file, is_education="on")
    assert response.status_code == 302
    document = PortalDocument.objects.get()
    assert document.blob == file.blob and Blob.objects.count() == 1
    assert (document.source, document.is_education, document.description) == (
        "chart",
        True,
        "Your exam",
    )
    detail = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert (
        "Chart or upload" in detail and ">Education<" in detail and 'class="source-chart"' in detail
    )
    assert AuditEvent.objects.filter(action="portal_document.shared", patient=patient_a).exists()


@pytest.mark.parametrize(
    ("next_url", "comes_back"),
    [
        ("share", True),
        ("https://evil.example/office/", False),
        ("//evil.example/office/", False),
        ("/p/clinic-x/", False),
    ],
)
def test_access_set_up_from_the_share_page_comes_back_to_it(
    bob_client, bob, patient_a, next_url, comes_back
):
    file = add_chart_pdf(bob, patient_a)
    share_url = reverse("office:portal_document_share", args=[patient_a.public_id, file.public_id])
    next_url = share_url if next_url == "share" else next_url
    page = bob_client.get(share_url).content.decode()
    access = reverse("office:portal_access", args=[patient_a.public_id])
    assert f"{access}?next={quote(share_url)}" in page
    slip = bob_client.post(
        f"{access}?{urlencode({'next': next_url})}", {"username": "ada.l", "password": ""}
    ).content.decode()
    assert "data-slip-password" in slip
    done = slip.split('class="button" href="')[1].split('"')[0]
    assert done == (
        share_url
        if comes_back
        else reverse("office:patient", args=[patient_a.public_id]) + "#online-portal"
    )
    assert "has no portal access yet" not in bob_client.get(share_url).content.decode()


def test_uploading_from_the_desktop_checks_the_content(bob_client, patient_a, settings):
    refused = upload(bob_client, patient_a, "letter.pdf", b"MZ\x90\x00 not a pdf")
    assert refused.status_code == 400
    assert "not a file type we accept" in refused.content.decode()
    assert not PortalDocument.objects.exists() and not Blob.objects.exists()
    assert (
        upload(bob_client, patient_a, "photo.png", png_bytes(), description="Fundus").status_code
        == 302
    )
    document = PortalDocument.objects.get()
    assert document.blob is not None and document.blob.content_type == "image/png"
    assert document.filename == "photo.png"
    # Not "From the chart": it came from the desktop, and the row's source says either may be.
    detail = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert '<span class="source-label">Chart or upload</span>' in detail


def test_removing_asks_first_and_frees_content_nothing_else_uses(
    bob_client, bob, patient_a, django_capture_on_commit_callbacks
):
    upload(bob_client, patient_a, "only-here.pdf", PDF_BYTES + b"1")
    uploaded = PortalDocument.objects.get()
    assert uploaded.blob is not None
    path = get_blob_store().path(uploaded.blob.storage_name)
    url = reverse("office:portal_document_remove", args=[patient_a.public_id, uploaded.public_id])
    assert "This cannot be undone" in bob_client.get(url).content.decode()
    assert PortalDocument.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        bob_client.post(url)
    assert not PortalDocument.objects.exists()
    assert not Blob.objects.exists() and not path.exists()

    file = add_chart_pdf(bob, patient_a)
    share(bob_client, patient_a, file)
    shared = PortalDocument.objects.get()
    bob_client.post(
        reverse("office:portal_document_remove", args=[patient_a.public_id, shared.public_id])
    )
    assert Blob.objects.filter(pk=file.blob_id).exists()  # the chart still uses it
    assert get_blob_store().path(file.blob.storage_name).exists()
    assert AuditEvent.objects.filter(action="portal_document.removed").count() == 2


def test_remove_files_chooses_a_category_then_a_file_then_confirms(
    alice_client, bob_client, patient_a, patient_b
):
    upload(bob_client, patient_a, "exam.pdf", PDF_BYTES + b"1", description="Exam")
    add_to_library(alice_client)
    library = reverse("office:portal_document_assign_system", args=[patient_a.public_id])
    bob_client.post(library, {"document": str(SystemDocument.objects.get().public_id)})
    upload(bob_client, patient_b, "b.pdf", PDF_BYTES + b"b", is_education="on")
    other = reverse("office:portal_document_assign_other", args=[patient_a.public_id])
    from_b = PortalDocument.objects.get(patient=patient_b)
    bob_client.post(f"{other}?from={patient_b.public_id}", {"document": str(from_b.public_id)})

    url = reverse("office:portal_document_remove_choose", args=[patient_a.public_id])

    def offered(category: str) -> list[str]:
        page = bob_client.get(url, {"category": category})
        return [d.filename for d in page.context["documents"]]

    assert offered("patient") == ["exam.pdf"]
    assert offered("system") == ["glaucoma.pdf"]
    assert offered("other") == ["b.pdf"]
    assert bob_client.get(url, {"category": "nope"}).status_code == 404
    nothing = bob_client.post(f"{url}?category=system", {})
    assert nothing.status_code == 400 and "Please choose a file first." in nothing.content.decode()
    assert (
        bob_client.post(f"{url}?category=system", {"document": str(from_b.public_id)}).status_code
        == 400
    )
    chosen = PortalDocument.objects.get(patient=patient_a, source="system")
    response = bob_client.post(f"{url}?category=system", {"document": str(chosen.public_id)})
    confirm = reverse("office:portal_document_remove", args=[patient_a.public_id, chosen.public_id])
    assert response.status_code == 302 and response["Location"] == confirm
    assert PortalDocument.objects.filter(pk=chosen.pk).exists()  # nothing goes before "Yes"
    bob_client.post(confirm)
    assert offered("system") == [] and offered("patient") == ["exam.pdf"]


def test_staff_of_another_practice_get_404(carol_client, bob, bob_client, patient_a):
    file = add_chart_pdf(bob, patient_a)
    share(bob_client, patient_a, file)
    document = PortalDocument.objects.get()
    urls = [
        reverse("office:portal_document_share", args=[patient_a.public_id, file.public_id]),
        reverse("office:portal_document_upload", args=[patient_a.public_id]),
        reverse("office:portal_document_remove", args=[patient_a.public_id, document.public_id]),
        reverse("office:portal_document_remove_choose", args=[patient_a.public_id]),
    ]
    for url in urls:
        assert carol_client.get(url).status_code == 404, url
        assert carol_client.post(url, {"document_date": "2026-01-01"}).status_code == 404, url
        assert Client().get(url)["Location"].startswith("/office/login/"), url
    assert PortalDocument.objects.count() == 1


def test_a_document_of_another_patient_is_404_under_this_patient(
    bob_client, bob, patient_a, patient_b
):
    share(bob_client, patient_a, add_chart_pdf(bob, patient_a))
    document = PortalDocument.objects.get()
    url = reverse("office:portal_document_remove", args=[patient_b.public_id, document.public_id])
    assert bob_client.post(url).status_code == 404
    assert PortalDocument.objects.exists()


def test_records_list_newest_first_marks_new_and_filters_education(
    ada_portal, bob, bob_client, patient_a
):
    share(bob_client, patient_a, add_chart_pdf(bob, patient_a), description="Exam report")
    upload(
        bob_client,
        patient_a,
        "glaucoma.pdf",
        PDF_BYTES + b"2",
        description="About glaucoma",
        is_education="on",
    )
    response = ada_portal.get("/p/clinic-x/records/")
    html = response.content.decode()
    assert [d.description for d in response.context["page"].object_list] == [
        "About glaucoma",
        "Exam report",
    ]
    assert html.count("badge new") == 2 and "PDF" in html
    education = ada_portal.get("/p/clinic-x/records/?education=1")
    assert [d.description for d in education.context["page"].object_list] == ["About glaucoma"]
    nav = html.split('aria-label="Portal"')[1].split("</nav>")[0]
    assert nav.index("RECORDS") < nav.index("LOGS") < nav.index("ACCOUNT")


def test_viewing_and_downloading_are_safe_and_show_in_logs(ada_portal, bob, bob_client, patient_a):
    share(bob_client, patient_a, add_chart_pdf(bob, patient_a), description="Exam report")
    document = PortalDocument.objects.get()
    view = ada_portal.get(f"/p/clinic-x/records/{document.public_id}/view")
    assert view.status_code == 200 and b"".join(view.streaming_content) == PDF_BYTES
    assert view["Content-Disposition"].startswith("inline;")
    assert view["X-Content-Type-Options"] == "nosniff" and "no-store" in view["Cache-Control"]
    download = ada_portal.get(f"/p/clinic-x/records/{document.public_id}/download")
    assert download["Content-Disposition"].startswith("attachment;")
    logs = ada_portal.get("/p/clinic-x/logs/").content.decode()
    assert "Ada Lovelace viewed “Exam report”" in logs
    assert "Ada Lovelace downloaded “Exam report”" in logs
    assert "badge new" not in ada_portal.get("/p/clinic-x/records/").content.decode()


def test_opening_records_changes_no_record_and_new_follows_the_viewings(
    ada_portal, bob, bob_client, patient_a
):
    share(bob_client, patient_a, add_chart_pdf(bob, patient_a), description="Exam report")
    share(bob_client, patient_a, add_chart_pdf(bob, patient_a, data=PDF_BYTES + b"2"))
    first, _ = PortalDocument.objects.order_by("id")
    rows = list(PortalDocument.objects.order_by("id").values())
    b"".join(ada_portal.get(f"/p/clinic-x/records/{first.public_id}/view").streaming_content)
    assert ada_portal.get("/p/clinic-x/records/").content.decode().count("badge new") == 1
    b"".join(ada_portal.get("/p/clinic-x/records/all.zip").streaming_content)
    assert "badge new" not in ada_portal.get("/p/clinic-x/records/").content.decode()
    assert list(PortalDocument.objects.order_by("id").values()) == rows


def test_a_chart_file_of_another_patient_cannot_be_shared_under_this_one(
    bob_client, bob, patient_a, patient_b
):
    file = add_chart_pdf(bob, patient_a)
    url = reverse("office:portal_document_share", args=[patient_b.public_id, file.public_id])
    assert bob_client.get(url).status_code == 404
    assert bob_client.post(url, {"document_date": "2026-11-20"}).status_code == 404
    assert not PortalDocument.objects.exists()


def test_a_guardian_sees_only_the_chosen_childs_records(
    client, alice, bob, bob_client, patient_a, patient_b
):
    from clinicportal.accounts.services.portal_access import authorized_user_link

    add_guardian(alice, patient_a)
    authorized_user_link(actor=actor(alice), patient=patient_b, username="mary", note="mother")
    share(bob_client, patient_b, add_chart_pdf(bob, patient_b))
    of_b = PortalDocument.objects.get()
    client.post("/p/clinic-x/login/", {"username": "mary", "password": GUARDIAN_PASSWORD})
    client.post("/p/clinic-x/choose/", {"patient": str(patient_a.public_id)})
    for action in ("view", "download"):
        assert client.get(f"/p/clinic-x/records/{of_b.public_id}/{action}").status_code == 404
    client.post("/p/clinic-x/choose/", {"patient": str(patient_b.public_id)})
    assert client.get(f"/p/clinic-x/records/{of_b.public_id}/view").status_code == 200


def test_a_removed_records_old_link_is_404(ada_portal, bob, bob_client, patient_a):
    share(bob_client, patient_a, add_chart_pdf(bob, patient_a))
    document = PortalDocument.objects.get()
    bob_client.post(
        reverse("office:portal_document_remove", args=[patient_a.public_id, document.public_id])
    )
    assert ada_portal.get(f"/p/clinic-x/records/{document.public_id}/view").status_code == 404


def test_hostile_filenames_and_descriptions_show_as_text(ada_portal, bob_client, patient_a):
    upload(
        bob_client, patient_a, "<img src=x onerror=alert(1)>.pdf", PDF_BYTES, description="<b>x</b>"
    )
    assert "<b>x</b>" not in ada_portal.get("/p/clinic-x/records/").content.decode()
    office = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert "<img src=x" not in office and "&lt;img src=x onerror=alert(1)&gt;.pdf" in office


def test_the_records_page_runs_a_constant_number_of_queries(ada_portal, bob, bob_client, patient_a):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            ada_portal.get("/p/clinic-x/records/")
        return len(queries)

    upload(bob_client, patient_a, "a.pdf", PDF_BYTES + b"a")
    ada_portal.get("/p/clinic-x/records/")  # shows (and so removes) the sign-in's welcome message
    one = count()
    for i in range(12):
        upload(bob_client, patient_a, f"f{i}.pdf", PDF_BYTES + str(i).encode())
    assert count() == one


def test_an_authorized_user_sees_the_same_records(
    client, practice_x, alice, bob, bob_client, patient_a
):
    add_guardian(alice, patient_a)
    share(bob_client, patient_a, add_chart_pdf(bob, patient_a), description="Exam report")
    client.post("/p/clinic-x/login/", {"username": "mary", "password": GUARDIAN_PASSWORD})
    assert "Exam report" in client.get("/p/clinic-x/records/").content.decode()


def test_download_all_streams_a_zip_of_every_record(
    ada_portal, bob, bob_client, patient_a, patient_b
):
    import zipfile

    share(bob_client, patient_a, add_chart_pdf(bob, patient_a), description="Exam")
    upload(bob_client, patient_a, "exam.pdf", PDF_BYTES + b"2")  # the same name, another day
    upload(bob_client, patient_a, "../../evil.pdf", PDF_BYTES + b"3")
    upload(bob_client, patient_b, "not-hers.pdf", PDF_BYTES + b"4")
    response = ada_portal.get("/p/clinic-x/records/all.zip")
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = sorted(archive.namelist())
    assert len(names) == 3
    assert all("/" not in name and ".." not in name.split(" ", 1)[0] for name in names)
    assert not any("not-hers" in name for name in names)
    assert archive.read(next(n for n in names if "evil" in n)) == PDF_BYTES + b"3"
    assert (
        AuditEvent.objects.filter(action="portal_document.downloaded", patient=patient_a).count()
        == 3
    )


def test_download_all_names_are_unique(ada_portal, bob, bob_client, patient_a):
    import zipfile

    for i in range(3):
        upload(bob_client, patient_a, "scan.pdf", PDF_BYTES + str(i).encode())
    response = ada_portal.get("/p/clinic-x/records/all.zip")
    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    assert sorted(names) == [
        "2026-11-21 scan (2).pdf",
        "2026-11-21 scan (3).pdf",
        "2026-11-21 scan.pdf",
    ]


def test_download_all_dates_each_file_with_its_record_date(ada_portal, bob, bob_client, patient_a):
    import zipfile

    share(bob_client, patient_a, add_chart_pdf(bob, patient_a), document_date="2026-11-20")
    upload(bob_client, patient_a, "old.pdf", PDF_BYTES + b"old", document_date="1975-06-30")
    response = ada_portal.get("/p/clinic-x/records/all.zip")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    dates = {info.filename: info.date_time for info in archive.infolist()}
    assert dates == {
        "2026-11-20 exam.pdf": (2026, 11, 20, 12, 0, 0),
        # ZIP cannot hold dates before 1980: the earliest it can is used, never today's date.
        "1975-06-30 old.pdf": (1980, 1, 1, 0, 0, 0),
    }


def test_staff_open_a_portal_file_and_it_is_audited_and_shown_in_the_patients_logs(
    bob_client, carol_client, ada_portal, bob, patient_a, patient_b
):
    share(bob_client, patient_a, add_chart_pdf(bob, patient_a))
    document = PortalDocument.objects.get()
    url = reverse("office:portal_document", args=[patient_a.public_id, document.public_id])
    response = bob_client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(
        action="portal_document.office_opened", actor_user=bob.user
    ).exists()
    assert "The office viewed “Your exam”" in ada_portal.get("/p/clinic-x/logs/").content.decode()
    assert carol_client.get(url).status_code == 404
    other = reverse("office:portal_document", args=[patient_b.public_id, document.public_id])
    assert bob_client.get(other).status_code == 404
    assert Client().get(url)["Location"].startswith("/office/login/")
