"""Word documents are ZIP archives: zip bombs are refused before or while they are unpacked."""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from clinicportal.content import archive, sniff
from clinicportal.content.models import Blob
from clinicportal.patients.models import ChartFile
from tests.test_chart_files import named, stored_files, upload

MB = 1024 * 1024


@functools.cache  # each bomb is built once for the module
def docx(*, parts: int = 0, zeros_mb: int = 0) -> bytes:
    """A real Word document's skeleton with ``parts`` more empty parts and, if asked, one part
    of ``zeros_mb`` megabytes of zeros (which deflate to about a thousandth of that)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("[Content_Types].xml", "<Types/>")
        out.writestr("word/document.xml", "<w:document/>")
        for number in range(parts):
            out.writestr(f"word/media/{number}.xml", "")
        if zeros_mb:
            with out.open("word/media/zeros.bin", "w") as part:
                for _ in range(zeros_mb):
                    part.write(bytes(MB))
    return buffer.getvalue()


def lying_about(data: bytes, name: str, size: int) -> bytes:
    """Make both of the part's headers say it unpacks to ``size`` bytes, with a checksum to match
    the first ``size`` bytes: only unpacking it tells the truth."""
    edited = bytearray(data)
    crc = zlib.crc32(bytes(size))
    local = edited.find(name.encode()) - 30
    assert edited[local : local + 4] == b"PK\x03\x04"
    struct.pack_into("<L", edited, local + 14, crc)
    struct.pack_into("<L", edited, local + 22, size)
    central = edited.rfind(name.encode()) - 46
    assert edited[central : central + 4] == b"PK\x01\x02"
    struct.pack_into("<L", edited, central + 16, crc)
    struct.pack_into("<L", edited, central + 24, size)
    return bytes(edited)


def written(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return path


def test_a_document_within_the_caps_is_unpacked_whole(tmp_path: Path):
    path = written(tmp_path, docx(parts=archive.ZIP_MAX_ENTRIES - 3, zeros_mb=20))
    archive.unpack_check(path)
    assert sniff.sniff(path.read_bytes()[: sniff.HEAD_BYTES], path) is sniff.DOCX


def test_more_parts_than_the_cap_are_refused_unread(tmp_path: Path):
    path = written(tmp_path, docx(parts=archive.ZIP_MAX_ENTRIES - 1))
    with pytest.raises(archive.ArchiveTooLarge):
        archive.unpack_check(path)


def test_a_part_declaring_more_than_the_unpacked_cap_is_refused_unread(tmp_path: Path):
    data = docx(zeros_mb=150)
    assert len(data) < MB  # a thousandth of what it unpacks to
    with pytest.raises(archive.ArchiveTooLarge):
        archive.unpack_check(written(tmp_path, data))


def test_a_part_unpacking_to_more_than_it_declares_is_refused_while_unpacking(tmp_path: Path):
    data = lying_about(docx(zeros_mb=150), "word/media/zeros.bin", 1000)
    with zipfile.ZipFile(io.BytesIO(data)) as listed:
        assert sum(part.file_size for part in listed.infolist()) < 2000  # within every cap
    with pytest.raises(archive.ArchiveBroken):
        archive.unpack_check(written(tmp_path, data))


def test_a_directory_too_large_to_read_is_not_taken_for_a_document(tmp_path: Path):
    data = docx(parts=30_000)
    path = written(tmp_path, data)
    assert not archive.directory_readable(path)
    assert archive.entry_names(path) is None
    assert sniff.sniff(data[: sniff.HEAD_BYTES], path) is None


def refused(bob_client, patient_a, settings, name: str, data: bytes) -> str:
    response = upload(bob_client, patient_a, named(name, data))
    assert response.status_code == 400
    assert ChartFile.objects.count() == 0
    assert Blob.objects.count() == 0
    assert stored_files(settings) == []
    return response.content.decode()


def test_uploading_a_document_with_too_many_parts_is_refused_kindly(
    bob_client, patient_a, settings
):
    html = refused(bob_client, patient_a, settings, "notes.docx", docx(parts=2000))
    assert "“notes.docx” is a Word document too large to check" in html
    assert "more than 1,000 parts" in html


def test_uploading_a_zip_bomb_is_refused_kindly(bob_client, patient_a, settings):
    html = refused(bob_client, patient_a, settings, "bomb.docx", docx(zeros_mb=150))
    assert "“bomb.docx” is a Word document too large to check" in html


def test_uploading_a_zip_bomb_with_lying_headers_is_refused_kindly(bob_client, patient_a, settings):
    data = lying_about(docx(zeros_mb=150), "word/media/zeros.bin", 1000)
    html = refused(bob_client, patient_a, settings, "bomb.docx", data)
    assert "“bomb.docx” is a Word document that cannot be opened" in html


def test_uploading_an_archive_with_a_huge_directory_is_refused_as_a_zip(
    bob_client, patient_a, settings
):
    html = refused(bob_client, patient_a, settings, "bomb.docx", docx(parts=30_000))
    assert "it is a ZIP archive, not a file type we accept" in html


def test_a_real_document_is_accepted(bob_client, patient_a):
    response = upload(bob_client, patient_a, named("letter.docx", docx(parts=200, zeros_mb=5)))
    assert response.status_code == 302
    assert ChartFile.objects.get().blob.content_type == sniff.DOCX.content_type
