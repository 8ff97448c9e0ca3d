"""A picture of more pixels than is opened is refused from what it says of its size, without
being decoded (ASVS 5.2.6): every page of a TIFF scan, and a HEIC photo, which nothing here
decodes, as well as the first page checked before (content/checks.py)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from clinicportal.content import tiff
from clinicportal.content.checks import Problem, open_problem
from clinicportal.content.models import Blob
from clinicportal.content.sniff import HEIC, TIFF
from clinicportal.messaging.models import Attachment
from tests.test_photo_metadata_heic_gif import PHONE_HEIC
from tests.test_portal_messages import send
from tests.test_scan_metadata_tiff import SCAN
from tests.test_upload_failures import named

WIDTH, LENGTH = 256, 257


def scan_with_second_page(width: int, length: int) -> bytes:
    """The real two-page scan, its second page saying it is ``width`` by ``length``."""
    data = bytearray(SCAN)
    order = "<" if data[:2] == b"II" else ">"
    first = struct.unpack_from(f"{order}I", data, 4)[0]
    count = struct.unpack_from(f"{order}H", data, first)[0]
    second = struct.unpack_from(f"{order}I", data, first + 2 + 12 * count)[0]
    for entry in range(struct.unpack_from(f"{order}H", data, second)[0]):
        at = second + 2 + 12 * entry
        tag, kind = struct.unpack_from(f"{order}HH", data, at)
        if tag in (WIDTH, LENGTH):
            value = width if tag == WIDTH else length
            struct.pack_into(f"{order}{'H' if kind == 3 else 'I'}", data, at + 8, value)
    return bytes(data)


def heic_of_size(width: int, length: int) -> bytes:
    """The real phone photo, its picture saying it is ``width`` by ``length``."""
    data = bytearray(PHONE_HEIC)
    at = data.index(b"ispe") + 8  # past the kind, and the version and flags
    struct.pack_into(">II", data, at, width, length)
    return bytes(data)


def heic_of_canvas(width: int, length: int) -> bytes:
    """The real phone photo, its grid of one tile saying it draws ``width`` by ``length``."""
    grid = b"\x00\x00\x00\x00" + struct.pack(">HH", 64, 48)  # version, flags, 1 × 1, 64 × 48
    assert PHONE_HEIC.count(grid) == 1
    return PHONE_HEIC.replace(grid, b"\x00\x00\x00\x00" + struct.pack(">HH", width, length))


def checked(tmp_path: Path, data: bytes, file_type) -> Problem | None:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return open_problem(path, file_type)


def test_a_scan_whose_second_page_is_too_large_is_refused(tmp_path) -> None:
    assert checked(tmp_path, SCAN, TIFF) is None
    assert checked(tmp_path, scan_with_second_page(16, 12), TIFF) is None  # as it was
    assert checked(tmp_path, scan_with_second_page(65_535, 65_535), TIFF) is Problem.TOO_LARGE


def test_a_scan_of_more_pages_than_are_followed_is_refused(tmp_path) -> None:
    count = tiff.MAX_DIRECTORIES + 1  # pages of one pixel, each pointing to the next
    entries = [(WIDTH, 3, 1, 1), (LENGTH, 3, 1, 1), (258, 3, 1, 8), (262, 3, 1, 1)]
    entries += [(273, 4, 1, 0), (277, 3, 1, 1), (278, 3, 1, 1), (279, 4, 1, 1)]
    size = 2 + 12 * len(entries) + 4
    pages = b""
    for n in range(count):
        following = 8 + size * (n + 1) if n + 1 < count else 0
        pages += struct.pack("<H", len(entries))
        pages += b"".join(struct.pack("<HHII", *entry) for entry in entries)
        pages += struct.pack("<I", following)
    data = b"II\x2a\x00" + struct.pack("<I", 8) + pages
    assert checked(tmp_path, data, TIFF) is Problem.BROKEN


def test_a_heic_photo_is_checked_by_the_size_it_says(tmp_path) -> None:
    assert checked(tmp_path, PHONE_HEIC, HEIC) is None
    assert checked(tmp_path, heic_of_size(20_000, 20_000), HEIC) is Problem.TOO_LARGE
    assert checked(tmp_path, PHONE_HEIC.replace(b"ispe", b"xspe"), HEIC) is Problem.BROKEN


def test_a_heic_grid_is_checked_by_the_canvas_it_draws_not_its_tiles(tmp_path) -> None:
    assert checked(tmp_path, heic_of_canvas(64, 48), HEIC) is None
    assert checked(tmp_path, heic_of_canvas(12_000, 12_000), HEIC) is Problem.TOO_LARGE


def test_a_heic_with_two_of_a_box_readers_take_one_of_is_refused(tmp_path) -> None:
    properties = PHONE_HEIC.index(b"iprp") - 4
    size = int.from_bytes(PHONE_HEIC[properties : properties + 4])
    meta = PHONE_HEIC.index(b"meta") - 4
    twice = bytearray(PHONE_HEIC)
    twice[properties + size : properties + size] = PHONE_HEIC[properties : properties + size]
    twice[meta : meta + 4] = (int.from_bytes(twice[meta : meta + 4]) + size).to_bytes(4)
    assert checked(tmp_path, bytes(twice), HEIC) is Problem.BROKEN


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("card.tif", scan_with_second_page(65_535, 65_535)),
        ("eye.heic", heic_of_size(20_000, 20_000)),
    ],
)
def test_a_picture_too_large_to_open_is_refused_kindly(ada_portal, name, data) -> None:
    answer = send(ada_portal, body="My pictures.", attachments=[named(name, data)])
    assert answer.status_code == 400
    assert f"“{name}” is a picture too large to open" in answer.text
    assert not Attachment.objects.exists() and not Blob.objects.exists()
