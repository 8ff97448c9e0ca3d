"""Type sniffing from content, and the blob store's integrity checks."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from clinicportal.content import sniff
from clinicportal.content.blobstore import get_blob_store
from clinicportal.content.services import blob_put_bytes, display_filename
from tests.conftest import PDF_BYTES, png_bytes


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def gif_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("P", (2, 2)).save(out, format="GIF")
    return out.getvalue()


def tiff_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2)).save(out, format="TIFF")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2)).save(out, format="JPEG")
    return out.getvalue()


HEIC_HEAD = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PDF_BYTES, "application/pdf"),
        (png_bytes(), "image/png"),
        (jpeg_bytes(), "image/jpeg"),
        (gif_bytes(), "image/gif"),
        (tiff_bytes(), "image/tiff"),
        (HEIC_HEAD, "image/heic"),
        ("Visit notes: patient doing well. Café ✓\n".encode(), "text/plain"),
        (docx_bytes(), sniff.DOCX.content_type),
    ],
)
def test_allowed_types_are_recognised_from_their_content(tmp_path: Path, data, expected):
    path = tmp_path / "upload"
    path.write_bytes(data)
    found = sniff.sniff(data[: sniff.HEAD_BYTES], path)
    assert found is not None and found.content_type == expected


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03",  # a Windows program
        b"\x7fELF\x02\x01\x01",  # a Linux program
        b"PK\x03\x04not really a zip",
        b"text with a \x00 NUL byte",
        b"\x1b[31mterminal escapes\x1b[0m",
    ],
)
def test_other_content_is_refused(tmp_path: Path, data):
    path = tmp_path / "upload"
    path.write_bytes(data)
    assert sniff.sniff(data, path) is None


def test_display_filenames_never_carry_folders_or_control_characters():
    assert display_filename("../../etc/passwd") == "passwd"
    assert display_filename("C:\\Users\\me\\scan.pdf") == "scan.pdf"
    assert display_filename("bell\x07\x1b.pdf") == "bell.pdf"
    assert display_filename("..") == "file"


def test_scrub_reports_damaged_and_missing_content(practice_x):
    good = blob_put_bytes(practice=practice_x, data=PDF_BYTES, content_type="application/pdf")
    damaged = blob_put_bytes(practice=practice_x, data=png_bytes(), content_type="image/png")
    missing = blob_put_bytes(practice=practice_x, data=b"plain text", content_type="text/plain")
    store = get_blob_store()
    store.path(damaged.storage_name).write_bytes(b"\x89PNG but not the same")
    store.path(missing.storage_name).unlink()
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("scrub", stdout=out)
    report = out.getvalue()
    assert f"DAMAGED {damaged.storage_name} does not match its hash" in report
    assert f"DAMAGED {missing.storage_name} is missing" in report
    assert good.storage_name not in report
    assert "Checked 3 stored files: 2 damaged" in report


def test_scrub_passes_on_whole_content_and_lists_unreferenced_files(practice_x):
    blob_put_bytes(practice=practice_x, data=PDF_BYTES, content_type="application/pdf")
    stray = get_blob_store().path("blobs/999/ab/abcdef")
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left over")
    out = io.StringIO()
    call_command("scrub", stdout=out)
    assert "UNREFERENCED blobs/999/ab/abcdef" in out.getvalue()
    assert "0 damaged, 1 not referenced" in out.getvalue()


def test_sweep_deletes_content_nothing_uses_and_keeps_the_rest(
    practice_x, alice, patient_a, django_capture_on_commit_callbacks
):
    import os
    import time

    from clinicportal.content.models import Blob
    from tests.conftest import add_chart_pdf

    used = add_chart_pdf(alice, patient_a, name="kept.pdf", description="").blob
    unused = blob_put_bytes(practice=practice_x, data=png_bytes(), content_type="image/png")
    store = get_blob_store()
    old_orphan = store.path(f"blobs/{practice_x.pk}/aa/aaaa")
    old_orphan.parent.mkdir(parents=True, exist_ok=True)
    old_orphan.write_bytes(b"left over")
    two_hours_ago = time.time() - 7200
    os.utime(old_orphan, (two_hours_ago, two_hours_ago))
    young_orphan = store.path(f"blobs/{practice_x.pk}/bb/bbbb")
    young_orphan.parent.mkdir(parents=True, exist_ok=True)
    young_orphan.write_bytes(b"an upload under way")
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sweep", stdout=out)
    assert list(Blob.objects.all()) == [used]
    assert store.path(used.storage_name).exists()
    assert not store.path(unused.storage_name).exists()
    assert not old_orphan.exists() and young_orphan.exists()
    assert (
        "Deleted 1 unused stored files, 1 files with no record and 0 unfinished" in out.getvalue()
    )
    assert "0 damaged" in out.getvalue()


def test_sweep_removes_unfinished_uploads_older_than_an_hour(db):
    import os
    import time

    store = get_blob_store()
    store.tmp_dir.mkdir(parents=True)
    # What a killed worker leaves: the start of an upload nobody will finish.
    left = store.tmp_dir / "upload-0123456789abcdef0123456789abcdef"
    left.write_bytes(PDF_BYTES[:100])
    two_hours_ago = time.time() - 7200
    os.utime(left, (two_hours_ago, two_hours_ago))
    under_way = store.tmp_dir / "upload-fedcba9876543210fedcba9876543210"
    under_way.write_bytes(PDF_BYTES[:100])
    out = io.StringIO()
    call_command("sweep", stdout=out)
    assert not left.exists() and under_way.exists()
    assert "and 1 unfinished uploads older than an hour" in out.getvalue()


def test_sweep_forgets_sign_in_failures_older_than_the_window(db, practice_x):
    import datetime

    from clinicportal.accounts.models import LoginFailure

    for age in (0, 20):
        LoginFailure.objects.create(door="portal", practice=practice_x, username_key=f"u{age}")
        LoginFailure.objects.filter(username_key=f"u{age}").update(
            at=timezone.now() - datetime.timedelta(minutes=age)
        )
    out = io.StringIO()
    call_command("sweep", stdout=out)
    assert list(LoginFailure.objects.values_list("username_key", flat=True)) == ["u0"]
    assert "Forgot 1 sign-in failures" in out.getvalue()


def test_sweep_forgets_results_of_tasks_finished_more_than_a_week_ago(db, practice_x):
    import datetime

    from django_tasks_db.models import DBTaskResult

    from clinicportal.accounts.tasks import send_password_reset
    from clinicportal.notifications.worker import TASK_RESULTS_KEPT

    ids = [send_password_reset.enqueue(practice_x.pk, f"who{n}", None, "").id for n in range(5)]
    week_ago = timezone.now() - TASK_RESULTS_KEPT - datetime.timedelta(minutes=1)
    tasks = DBTaskResult.objects.filter
    tasks(pk__in=ids[:3]).update(status="SUCCESSFUL", finished_at=week_ago)
    tasks(pk=ids[1]).update(status="FAILED")
    tasks(pk=ids[2]).update(finished_at=timezone.now())  # finished today
    tasks(pk=ids[3]).update(enqueued_at=week_ago)  # waiting for a week: still to run
    out = io.StringIO()
    call_command("sweep", stdout=out)
    assert {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)} == {
        str(pk) for pk in ids[2:]
    }
    assert "Forgot 2 results of background tasks finished more than a week ago." in (out.getvalue())


def test_sweep_runs_every_app_s_cleanup_in_order_then_scrubs(db, monkeypatch):
    from clinicportal.core import sweep

    lines = io.StringIO()
    call_command("sweep", stdout=lines)
    said = lines.getvalue().splitlines()
    assert said[1:7] == [
        "Forgot 0 sign-in failures older than the throttle window.",
        "Forgot 0 session rows older than 12 hours (the session lifetime), and the expired "
        "stored sessions.",
        "Forgot 0 sent-form tokens older than a day.",
        "Queued again 0 emails a stopped worker left sending.",
        "Forgot the text of 0 emails sent more than CLINICPORTAL_OUTBOX_TEXT_DAYS ago.",
        "Forgot 0 results of background tasks finished more than a week ago.",
    ]
    assert said[7].startswith("Checked 0 stored files")

    monkeypatch.setattr(sweep, "_cleanups", dict(sweep._cleanups))
    sweep.cleanup_register("reports", lambda: 3, report="Forgot {count} old reports.")
    out = io.StringIO()
    call_command("sweep", stdout=out)
    assert out.getvalue().splitlines()[7] == "Forgot 3 old reports."


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("<?php echo 1; ?>", "a PHP script"),
        ('<svg xmlns="http://www.w3.org/2000/svg"/>', "an SVG image"),
        ("<!DOCTYPE html><p>hi", "an HTML page"),
        ("Hello <SCRIPT src=//evil.example>", "an HTML page"),
        ("<img src=x onerror=alert(1)", "an HTML page"),
        ('<?xml version="1.0"?><note/>', "an XML file"),
        ("Results: <b>normal</b>", "HTML or XML markup"),
        ("<![CDATA[x]]>", "HTML or XML markup"),
        ("BP <140/90, A1c <7%, LDL -> 100", None),
        ("Write to <ada@example.com> or see <https://medlineplus.gov/>", None),
        ("if a < b and c > d", None),
    ],
)
def test_markup_is_recognised_in_text(text, kind):
    assert sniff.markup_kind(text) == kind


@pytest.mark.parametrize(
    ("name", "extension"),
    [
        ("scan.PDF", "pdf"),
        ("photo.jpeg", "jpeg"),
        ("Visit with Dr.Jones", "jones"),
        ("Notes 2026.11.20", ""),
        ("report", ""),
        (".hidden", ""),
        ("archive.tar.gz", "gz"),
    ],
)
def test_the_type_a_name_claims(name, extension):
    assert sniff.name_extension(name) == extension


def test_text_is_read_whole_and_markup_across_pieces_is_found(tmp_path: Path):
    from clinicportal.content.checks import TEXT_CHUNK, text_refusal

    path = tmp_path / "notes.txt"
    path.write_bytes(b"a" * (TEXT_CHUNK - 3) + "é ✓ fine\n".encode() * 3)
    assert text_refusal(path) is None  # characters cut between pieces are still text
    path.write_bytes(b"a" * (TEXT_CHUNK - 3) + b"<script>alert(1)</script>")
    assert text_refusal(path) == "an HTML page"
    path.write_bytes(b"a" * (TEXT_CHUNK * 2) + b"\x00 binary after two pieces of text")
    assert text_refusal(path) == "a kind of file we don’t accept"


def test_sweep_keeps_stored_content_an_upload_has_just_reused(bob_client, bob, patient_a):
    import hashlib
    import os
    import time

    from django.db import transaction
    from django.urls import reverse

    from clinicportal.content.models import blob_storage_name
    from clinicportal.content.scrub import content_sweep

    # Content an earlier upload moved into place before its worker was killed: no row names
    # it, and it is older than the sweep's hour of grace.
    store = get_blob_store()
    sha256 = hashlib.sha256(PDF_BYTES).hexdigest()
    stored = store.path(blob_storage_name(bob.practice.pk, sha256))
    stored.parent.mkdir(parents=True)
    stored.write_bytes(PDF_BYTES)
    two_hours_ago = time.time() - 7200
    os.utime(stored, (two_hours_ago, two_hours_ago))

    class NotCommittedYet(Exception):
        pass

    # A new upload of the same bytes finds the file and uses it. Until the upload's rows commit,
    # a sweep (another process) cannot see them; it sees what it sees after a rollback.
    upload = io.BytesIO(PDF_BYTES)
    upload.name = "referral.pdf"
    with pytest.raises(NotCommittedYet), transaction.atomic():
        response = bob_client.post(
            reverse("office:chart_file_upload", args=[patient_a.public_id]),
            {"uploads": [upload], "document_date": "2026-11-20", "description": ""},
        )
        assert response.status_code == 302
        raise NotCommittedYet
    content_sweep()
    assert stored.read_bytes() == PDF_BYTES
