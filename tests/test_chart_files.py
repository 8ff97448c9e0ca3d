"""Uploading, listing, previewing and downloading chart files."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinicportal.audit.models import AuditEvent
from clinicportal.content.blobstore import get_blob_store
from clinicportal.content.models import Blob
from clinicportal.patients.models import ChartFile
from tests.conftest import PDF_BYTES, png_bytes


def upload(client, patient, *files, description="Referral letter", date="2026-11-20"):
    return client.post(
        reverse("office:chart_file_upload", args=[patient.public_id]),
        {"uploads": list(files), "document_date": date, "description": description},
    )


def named(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def stored_files(settings) -> list[Path]:
    root = Path(settings.CLINICPORTAL_STORAGE_DIR)
    return [p for p in root.rglob("*") if p.is_file()]


def test_staff_upload_a_pdf_and_it_is_stored_by_its_hash(bob_client, bob, patient_a, settings):
    response = upload(bob_client, patient_a, named("referral.pdf", PDF_BYTES))
    assert response.status_code == 302
    chart_file = ChartFile.objects.get()
    assert (chart_file.filename, chart_file.description) == ("referral.pdf", "Referral letter")
    assert str(chart_file.document_date) == "2026-11-20"
    sha = hashlib.sha256(PDF_BYTES).hexdigest()
    assert (chart_file.blob.sha256, chart_file.blob.size) == (sha, len(PDF_BYTES))
    assert chart_file.blob.content_type == "application/pdf"
    path = get_blob_store().path(chart_file.blob.storage_name)
    assert path.name == sha
    assert path.read_bytes() == PDF_BYTES
    assert path.stat().st_mode & 0o077 == 0
    assert not list((Path(settings.CLINICPORTAL_STORAGE_DIR) / "tmp").iterdir())
    assert AuditEvent.objects.filter(action="chart_file.uploaded", patient=patient_a).count() == 1


def test_several_files_upload_at_once_and_list_with_date_filename_description(
    bob_client, patient_a
):
    upload(bob_client, patient_a, named("a.pdf", PDF_BYTES), named("photo.png", png_bytes()))
    html = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert ChartFile.objects.count() == 2
    for text in (
        '<th scope="col">Date</th>',
        '<th scope="col">Filename</th>',
        "11/20/2026",
        "a.pdf",
        "photo.png",
    ):
        assert text in html


def test_the_same_content_is_stored_once(bob_client, patient_a, patient_b, settings):
    upload(bob_client, patient_a, named("one.pdf", PDF_BYTES))
    upload(bob_client, patient_b, named("two.pdf", PDF_BYTES))
    assert ChartFile.objects.count() == 2
    assert Blob.objects.count() == 1
    assert len([p for p in stored_files(settings) if "blobs" in p.parts]) == 1


def test_the_type_comes_from_the_content_not_the_name(bob_client, patient_a, settings):
    response = upload(
        bob_client, patient_a, named("innocent.pdf", b"MZ\x90\x00\x03\x00\x00\x00binary")
    )
    assert response.status_code == 400
    assert (
        "“innocent.pdf” is named .pdf but it is a Windows program, not a file type we accept. "
        "Please upload the PDF itself." in response.content.decode()
    )
    assert stored_files(settings) == []


HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG_IMAGE = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
PHP_SCRIPT = b"<?php system($_GET['c']); ?>"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "report.pdf",
            HTML_PAGE,
            "is named .pdf but it is an HTML page, not a file type we accept",
        ),
        (
            "report.pdf",
            SVG_IMAGE,
            "is named .pdf but it is an SVG image, not a file type we accept",
        ),
        (
            "report.pdf",
            PHP_SCRIPT,
            "is named .pdf but it is a PHP script, not a file type we accept",
        ),
        ("photo.jpg", PDF_BYTES, "is named .jpg but it is a PDF. Please upload the JPEG image"),
        ("notes.txt", png_bytes(), "is named .txt but it is a PNG image. Please upload the text"),
        ("letter.docx", b"Dear patient", "is named .docx but it is text. Please upload the Word"),
    ],
)
def test_a_name_that_disagrees_with_the_content_is_refused(
    bob_client, patient_a, settings, name, data, message
):
    response = upload(bob_client, patient_a, named(name, data))
    assert response.status_code == 400
    assert f"“{name}” {message}" in response.content.decode()
    assert ChartFile.objects.count() == 0 and stored_files(settings) == []


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("page.html", HTML_PAGE, "“page.html” is an HTML page: not a file type we accept."),
        ("notes.txt", HTML_PAGE, "“notes.txt” is named .txt but it is an HTML page, not"),
        ("notes.txt", b"Fine so far.\n" * 800 + b"<img src=x onerror=alert(1)>", "an HTML page"),
        ("notes.txt", b"Results: <b>normal</b>", "is named .txt but it is HTML or XML markup, not"),
        ("notes.txt", b"<!-- hidden -->Hello", "is named .txt but it is HTML or XML markup, not"),
        ("drawing.svg", SVG_IMAGE, "“drawing.svg” is an SVG image: not a file type we accept."),
        ("page.html", b"Just words.", "“page.html” is named .html, a type we don’t accept."),
    ],
)
def test_html_is_refused_even_when_it_looks_like_text(
    bob_client, patient_a, settings, name, data, message
):
    # Markup is never plain text, wherever it starts and whatever the file is called.
    response = upload(bob_client, patient_a, named(name, data))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ChartFile.objects.count() == 0 and stored_files(settings) == []


def test_text_that_only_mentions_angle_brackets_is_plain_text(bob_client, patient_a):
    notes = (
        b"BP < 140/90 goal; A1c <7% and LDL->100 is high.\n"
        b"Questions: Dr. Ada <ada@example.com>, see <https://medlineplus.gov/>.\n"
    )
    assert upload(bob_client, patient_a, named("notes.txt", notes)).status_code == 302
    assert ChartFile.objects.get().blob.content_type == "text/plain"


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def photo_jpeg(width: int = 64, height: int = 48) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((width, height), 50).convert("RGB").save(out, format="JPEG")
    return out.getvalue()


def password_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("scan.pdf", b"%PDF-1.7\n" + b"not really a PDF\n" * 50, "is a PDF that cannot be opened"),
        ("scan.pdf", truncated(PDF_BYTES), "is a PDF that cannot be opened"),
        ("photo.png", truncated(png_bytes(64, 64)), "is a PNG image that cannot be opened"),
        ("photo.jpg", truncated(photo_jpeg()), "is a JPEG image that cannot be opened"),
        ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200, "is a JPEG image that cannot be"),
        ("locked.pdf", password_pdf(), "is protected by a password"),
    ],
)
def test_a_broken_pdf_or_image_is_refused(bob_client, patient_a, settings, name, data, message):
    response = upload(bob_client, patient_a, named(name, data))
    assert response.status_code == 400
    assert f"“{name}” {message}" in response.content.decode()
    assert ChartFile.objects.count() == 0 and stored_files(settings) == []


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png"])
def test_a_cut_off_picture_is_refused_after_a_pdf_was_printed(bob_client, patient_a, name):
    """Importing WeasyPrint turns Pillow's "load truncated images" on for the whole process;
    an upload after a printed PDF must still be checked whole."""
    from PIL import ImageFile

    from clinicportal.core.pdf import pdf_from_html

    pdf_from_html("<p>An invoice</p>")
    assert ImageFile.LOAD_TRUNCATED_IMAGES  # as WeasyPrint leaves it
    picture = photo_jpeg() if name.endswith(".jpg") else png_bytes(64, 64)
    response = upload(bob_client, patient_a, named(name, truncated(picture)))
    assert response.status_code == 400
    assert "cannot be opened" in response.content.decode()
    assert ChartFile.objects.count() == 0
    assert ImageFile.LOAD_TRUNCATED_IMAGES  # given back as it was


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG file that claims to be a huge picture (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * (3 * width)
    pixels = zlib.compress(row * 4, 9)  # a few rows only: the file ends early
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_without_being_decoded(bob_client, patient_a, settings):

    response = upload(bob_client, patient_a, named("huge.png", bomb_png(30_000, 30_000)))
    assert response.status_code == 400
    assert "“huge.png” is a picture too large to open" in response.content.decode()
    assert stored_files(settings) == []


def many_objects_pdf(count: int, *, xref_entries: bool) -> bytes:
    """A PDF whose repair or cross-reference check would read ``count`` objects one by one."""
    if xref_entries:  # one object, listed ``count`` times in its cross-reference table
        body = b"%PDF-1.4\n1 0 obj<</Type/Catalog>> endobj\n"
        table = b"xref\n0 %d\n" % count + b"0000000009 00000 n \n" * count
        return body + table + b"trailer<</Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % len(body)
    objects = b"".join(b"%d 0 obj<</Type/Page>> endobj\n" % n for n in range(count))
    # The table is missing: a reader would rebuild it, reading every object.
    return b"%PDF-1.4\n" + objects + b"trailer<</Root 1 0 R>>\nstartxref\n999\n%%EOF\n"


@pytest.mark.parametrize("xref_entries", [False, True])
def test_a_pdf_too_large_to_check_is_refused_unread(bob_client, patient_a, settings, xref_entries):
    data = many_objects_pdf(1_000_000 if xref_entries else 300_000, xref_entries=xref_entries)
    response = upload(bob_client, patient_a, named("huge.pdf", data))
    assert response.status_code == 400
    assert "“huge.pdf” is a PDF too large to check" in response.content.decode()
    assert stored_files(settings) == []


def test_whole_pdfs_and_images_are_accepted(bob_client, patient_a):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    real_pdf = io.BytesIO()
    writer.write(real_pdf)
    response = upload(
        bob_client,
        patient_a,
        named("letter.pdf", real_pdf.getvalue()),
        named("photo.JPEG", photo_jpeg()),
        named("chart.png", png_bytes(64, 64)),
    )
    assert response.status_code == 302
    assert sorted(ChartFile.objects.values_list("blob__content_type", flat=True)) == [
        "application/pdf",
        "image/jpeg",
        "image/png",
    ]


@pytest.mark.parametrize(
    ("name", "data", "stored_as"),
    [
        # Phones and scanners often call a PNG ".jpg"; both are pictures, so the name is fixed.
        ("scan.jpg", png_bytes(), "scan.png"),
        # A name without a type gets the content's, so the download opens in the right program.
        ("scan", PDF_BYTES, "scan.pdf"),
        ("Visit with Dr.Jones", PDF_BYTES, "Visit with Dr.Jones.pdf"),
        ("Notes 2026.11.20", b"Doing well.", "Notes 2026.11.20.txt"),
        # A program's ending is replaced, not kept in front of the content's.
        ("scan.exe", PDF_BYTES, "scan.pdf"),
        ("notes.BAT", b"Doing well.", "notes.txt"),
    ],
)
def test_a_harmless_mismatch_is_stored_under_an_honest_name(
    bob_client, patient_a, name, data, stored_as
):
    assert upload(bob_client, patient_a, named(name, data)).status_code == 302
    assert ChartFile.objects.get().filename == stored_as


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.pdf", b"", "is empty"),
        ("tool.exe", b"MZ\x90\x00" + b"\x00" * 100, "not a file type we accept"),
        ("archive.zip", None, "not a file type we accept"),
    ],
)
def test_refused_uploads_say_why_and_store_nothing(
    bob_client, patient_a, settings, name, data, message
):
    if data is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("hello.txt", "hi")
        data = buffer.getvalue()
    response = upload(bob_client, patient_a, named(name, data))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert name in response.content.decode()
    assert ChartFile.objects.count() == 0
    assert Blob.objects.count() == 0
    assert stored_files(settings) == []


def test_a_file_over_the_limit_is_refused(bob_client, patient_a, settings):
    settings.CLINICPORTAL_UPLOAD_MAX_BYTES = 1000
    response = upload(bob_client, patient_a, named("big.pdf", PDF_BYTES + b"0" * 2000))
    assert response.status_code == 400
    assert "larger than the 1000" in response.content.decode()
    assert ChartFile.objects.count() == 0
    assert stored_files(settings) == []


def test_one_bad_file_stores_none_of_the_batch(bob_client, patient_a, settings):
    response = upload(
        bob_client, patient_a, named("ok.pdf", PDF_BYTES), named("bad.bin", b"\x00\x01\x02")
    )
    assert response.status_code == 400
    assert ChartFile.objects.count() == 0
    assert stored_files(settings) == []


def test_no_file_chosen_is_explained(bob_client, patient_a):
    response = bob_client.post(
        reverse("office:chart_file_upload", args=[patient_a.public_id]),
        {"document_date": "2026-11-20", "description": "kept"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Please choose at least one file." in html
    assert 'value="kept"' in html


def test_hostile_filenames_are_display_text_only(bob_client, patient_a, settings):
    upload(bob_client, patient_a, named("..\\..\\<img src=x onerror=alert(1)>\x07.pdf", PDF_BYTES))
    chart_file = ChartFile.objects.get()
    assert chart_file.filename == "<img src=x onerror=alert(1)>.pdf"
    html = bob_client.get(reverse("office:patient", args=[patient_a.public_id])).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html
    assert all(p.is_relative_to(settings.CLINICPORTAL_STORAGE_DIR) for p in stored_files(settings))


@pytest.fixture
def pdf_file(bob_client, patient_a):
    upload(bob_client, patient_a, named("Exam résumé.pdf", PDF_BYTES))
    return ChartFile.objects.get()


def test_download_streams_the_file_with_safe_headers_and_is_recorded(
    bob_client, bob, patient_a, pdf_file
):
    url = reverse("office:chart_file_download", args=[patient_a.public_id, pdf_file.public_id])
    response = bob_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''Exam%20r%C3%A9sum%C3%A9.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store, private"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    event = AuditEvent.objects.get(action="chart_file.downloaded")
    assert (event.actor_user, event.patient, event.object_id) == (
        bob.user,
        patient_a,
        str(pdf_file.public_id),
    )


def test_inline_view_is_framed_only_by_us_and_recorded(bob_client, patient_a, pdf_file):
    url = reverse("office:chart_file_inline", args=[patient_a.public_id, pdf_file.public_id])
    response = bob_client.get(url)
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert AuditEvent.objects.filter(action="chart_file.viewed").count() == 1


def test_a_file_is_downloaded_under_the_ending_of_its_content(bob_client, patient_a):
    upload(bob_client, patient_a, named("scan.exe", PDF_BYTES))
    chart_file = ChartFile.objects.get()
    url = reverse("office:chart_file_download", args=[patient_a.public_id, chart_file.public_id])
    response = bob_client.get(url)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="scan.pdf"'


def test_text_is_served_as_utf_8(bob_client, patient_a):
    upload(bob_client, patient_a, named("notes.txt", "Café au lait ✓\n".encode()))
    chart_file = ChartFile.objects.get()
    for name in ("office:chart_file_inline", "office:chart_file_download"):
        response = bob_client.get(reverse(name, args=[patient_a.public_id, chart_file.public_id]))
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert b"".join(response.streaming_content).decode() == "Café au lait ✓\n"


def test_images_are_served_inline_in_a_sandbox(bob_client, patient_a):
    upload(bob_client, patient_a, named("eye.png", png_bytes()))
    chart_file = ChartFile.objects.get()
    preview = bob_client.get(
        reverse("office:chart_file_preview", args=[patient_a.public_id, chart_file.public_id])
    )
    assert b"<img src=" in preview.content
    response = bob_client.get(
        reverse("office:chart_file_inline", args=[patient_a.public_id, chart_file.public_id])
    )
    assert response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"].endswith("sandbox")


def test_the_pdf_preview_embeds_the_inline_view(bob_client, patient_a, pdf_file):
    html = bob_client.get(
        reverse("office:chart_file_preview", args=[patient_a.public_id, pdf_file.public_id])
    ).content.decode()
    inline = reverse("office:chart_file_inline", args=[patient_a.public_id, pdf_file.public_id])
    assert f'<iframe class="preview-frame" src="{inline}"' in html


def test_damaged_content_is_not_served(bob_client, patient_a, pdf_file):
    path = get_blob_store().path(pdf_file.blob.storage_name)
    path.write_bytes(PDF_BYTES[:10])
    url = reverse("office:chart_file_download", args=[patient_a.public_id, pdf_file.public_id])
    assert bob_client.get(url).status_code == 404
    path.unlink()
    assert bob_client.get(url).status_code == 404


def test_x_accel_redirect_hands_the_transfer_to_nginx(bob_client, patient_a, pdf_file, settings):
    settings.CLINICPORTAL_X_ACCEL_PREFIX = "/_protected/"
    url = reverse("office:chart_file_download", args=[patient_a.public_id, pdf_file.public_id])
    response = bob_client.get(url)
    assert response["X-Accel-Redirect"] == f"/_protected/{pdf_file.blob.storage_name}"
    assert response.content == b""
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_patient_page_runs_the_same_number_of_queries_for_1_or_12_files(bob_client, patient_a):
    url = reverse("office:patient", args=[patient_a.public_id])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert bob_client.get(url).status_code == 200
        return len(queries)

    upload(bob_client, patient_a, named("first.pdf", PDF_BYTES))
    one = count()
    for i in range(11):
        upload(bob_client, patient_a, named(f"f{i}.pdf", PDF_BYTES + str(i).encode()))
    assert count() == one


def test_the_progress_bar_is_told_where_to_go_next(bob_client, patient_a):
    response = bob_client.post(
        reverse("office:chart_file_upload", args=[patient_a.public_id]),
        {"uploads": [named("a.pdf", PDF_BYTES)], "document_date": "2026-11-20"},
        headers={"X-Upload-Progress": "1"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "location": reverse("office:patient", args=[patient_a.public_id]) + "#files"
    }
