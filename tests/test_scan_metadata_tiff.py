"""TIFF scans are kept without their metadata (ASVS 14.2.8): every page's tags about who scanned
it, where and when are blanked where they lie, and the Exif and GPS directories emptied
(content/tiff.py).

tests/data/photos/scan.tif is a real two-page TIFF: two 16 × 12 pages saved by Pillow with LZW,
then given what a scanner and a phone would write, by ExifTool:
    exiftool -Make=ScanMaker -Model="Model 9000" -Software="ScanSoft 2.1" \\
        -ModifyDate="2026:01:02 03:04:05" -Artist="Ada Lovelace" -HostComputer=ada-laptop \\
        -ImageDescription="Ada insurance card" -DateTimeOriginal="2026:01:02 03:04:05" \\
        -OwnerName="Ada L" -SerialNumber=SN123456 -GPSLatitude=51.5 -GPSLatitudeRef=N \\
        -GPSLongitude=0.12 -GPSLongitudeRef=W -XMP-dc:Creator="Ada XMP" \\
        -IPTC:By-line="Ada IPTC" -IFD1:Make=PageTwoMaker -IFD1:Software=PageTwoSoft scan.tif
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image, ImageSequence

from clinicportal.content import tiff
from clinicportal.content.metadata import Unreadable, without_metadata
from clinicportal.content.models import Blob
from clinicportal.content.sniff import TIFF
from clinicportal.messaging.models import Attachment
from tests.test_photo_metadata import sent_and_served
from tests.test_photo_metadata_heic_gif import changed_runs
from tests.test_portal_messages import send
from tests.test_upload_failures import named

SCAN = (Path(__file__).parent / "data" / "photos" / "scan.tif").read_bytes()
TOLD = [b"Ada", b"ScanMaker", b"Model 9000", b"ada-laptop", b"2026:01:02", b"SN123456"]
TOLD += [b"PageTwoMaker", b"PageTwoSoft"]  # on the second page
STRIP_OFFSETS, STRIP_BYTE_COUNTS = 273, 279


def pages(data: bytes) -> list[bytes]:
    return [
        page.convert("RGB").tobytes()
        for page in ImageSequence.Iterator(Image.open(io.BytesIO(data)))
    ]


def strips(data: bytes) -> list[range]:
    """Where every page's picture lies."""
    found = []
    for page in ImageSequence.Iterator(Image.open(io.BytesIO(data))):
        tags = page.tag_v2  # type: ignore[attr-defined]  # a TIFF page's tags
        for start, length in zip(tags[STRIP_OFFSETS], tags[STRIP_BYTE_COUNTS], strict=True):
            found.append(range(start, start + length))
    return found


def test_a_scan_keeps_every_page_s_picture_and_none_of_its_metadata() -> None:
    assert all(told in SCAN for told in TOLD)
    kept = without_metadata(SCAN, TIFF)
    assert kept is not None and len(kept) == len(SCAN)  # nothing moved
    for told in TOLD:
        assert told not in kept, told
    assert pages(kept) == pages(SCAN) and len(pages(kept)) == 2
    pictures = strips(SCAN)
    for start, end in changed_runs(SCAN, kept):
        assert not any(start < picture.stop and picture.start < end for picture in pictures)
    exif = Image.open(io.BytesIO(kept)).getexif()
    for tag in (270, 271, 272, 305, 306, 315, 316):
        assert not str(exif.get(tag, "")).strip("\x00"), tag
    assert not exif.get_ifd(0x8825)  # GPS
    assert not exif.get_ifd(0x8769)  # Exif
    assert b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>' in kept  # an empty XMP


def test_a_scan_already_without_metadata_is_kept_as_it_is() -> None:
    kept = without_metadata(SCAN, TIFF)
    assert kept is not None
    assert without_metadata(kept, TIFF) is None
    plain = io.BytesIO()
    Image.new("L", (4, 4), 90).save(plain, "TIFF")
    assert without_metadata(plain.getvalue(), TIFF) is None


def tiff_file(
    order: str, entries: list[tuple[int, int, int, bytes]], *, next_ifd: int = 0
) -> bytes:
    """A one-page, 1 × 1 grey TIFF of byte ``order`` ("<" or ">") with ``entries`` added:
    (tag, type, count, value), the value stored after the directory when over 4 bytes."""
    mark = b"II\x2a\x00" if order == "<" else b"MM\x00\x2a"
    picture = b"\x80"
    base = [
        (256, 3, 1, struct.pack(order + "H", 1)),  # width
        (257, 3, 1, struct.pack(order + "H", 1)),  # height
        (258, 3, 1, struct.pack(order + "H", 8)),  # bits per sample
        (259, 3, 1, struct.pack(order + "H", 1)),  # no compression
        (262, 3, 1, struct.pack(order + "H", 1)),  # black is zero
        (273, 4, 1, b""),  # strip offset: filled in below
        (278, 3, 1, struct.pack(order + "H", 1)),  # rows per strip
        (279, 4, 1, struct.pack(order + "I", 1)),  # strip byte count
    ]
    every = sorted(base + entries)
    directory = 8
    values_at = directory + 2 + 12 * len(every) + 4
    values = b""
    fields = b""
    for tag, kind, count, value in every:
        if tag == 273:
            value = struct.pack(order + "I", 0)  # placeholder, fixed once the values are laid out
        if len(value) > 4:
            fields += struct.pack(order + "HHII", tag, kind, count, values_at + len(values))
            values += value
        else:
            fields += struct.pack(order + "HHI", tag, kind, count) + value.ljust(4, b"\0")
    picture_at = values_at + len(values)
    at = fields.index(struct.pack(order + "HHI", 273, 4, 1))
    fields = fields[: at + 8] + struct.pack(order + "I", picture_at) + fields[at + 12 :]
    head = mark + struct.pack(order + "I", directory) + struct.pack(order + "H", len(every))
    return head + fields + struct.pack(order + "I", next_ifd) + values + picture


@pytest.mark.parametrize("order", ["<", ">"])
def test_either_byte_order_is_followed(order: str) -> None:
    made = b"Made by Ada's scanner\0"
    sent = tiff_file(order, [(271, 2, len(made), made)])
    opened = Image.open(io.BytesIO(sent))
    assert opened.tag_v2[271] == "Made by Ada's scanner"  # type: ignore[attr-defined]
    kept = without_metadata(sent, TIFF)
    assert kept is not None and b"Ada" not in kept
    assert pages(kept) == pages(sent)


def test_every_tag_a_picture_does_not_need_is_blanked() -> None:
    # A fax's sender (HylaFAX), a TIFF/EP serial number, PrintIM, Windows' author: none of them
    # is a tag the picture needs, so each is blanked without being named.
    told = [(34908, b"Sent from Dr Who's fax\0"), (37389, b"SN-998877\0"), (50341, b"PrintIM0300")]
    told += [(40093, "Ada Lovelace".encode("utf-16-le"))]
    sent = tiff_file("<", [(tag, 7, len(value), value) for tag, value in told])
    kept = without_metadata(sent, TIFF)
    assert kept is not None and pages(kept) == pages(sent)
    for _, value in told:
        assert value.rstrip(b"\0") not in kept
    assert Image.open(io.BytesIO(kept)).size == (1, 1)


def with_offset(data: bytes, tag: int, offset: int) -> bytes:
    """``data`` with the value of ``tag`` (in the first page's directory) said to lie at
    ``offset``."""
    at = 10
    while struct.unpack_from("<H", data, at)[0] != tag:
        at += 12
    return data[: at + 8] + struct.pack("<I", offset) + data[at + 12 :]


def test_values_to_blank_that_overlap_each_other_or_the_picture_are_refused() -> None:
    made, said = b"Made by Ada's scanner\0", b"Scanned for Ada L.\0\0\0\0"
    sent = tiff_file("<", [(270, 2, len(made), made), (271, 2, len(said), said)])
    description = struct.unpack_from(
        "<I", sent, sent.index(struct.pack("<HHI", 270, 2, len(made))) + 8
    )[0]
    # Many tags over one value would have it blanked over and over: a crafted file's trick.
    with pytest.raises(Unreadable):
        without_metadata(with_offset(sent, 271, description), TIFF)
    # A value said to lie in the picture would have a pixel overwritten.
    strip = len(sent) - 1
    with pytest.raises(Unreadable):
        without_metadata(with_offset(sent, 271, strip - len(said) + 1), TIFF)
    # An Exif pointer to more than one directory is no Exif pointer.
    many = tiff_file("<", [(34665, 4, 2, struct.pack("<II", 8, 8))])
    with pytest.raises(Unreadable):
        without_metadata(many, TIFF)


def test_a_directory_any_pointer_tag_names_is_emptied() -> None:
    # A private directory (of the IFD type, or Kodak's) holding an artist's name.
    for tag, kind in ((400, 13), (33424, 4)):
        at = len(tiff_file("<", [(tag, kind, 1, struct.pack("<I", 0))]))
        sent = tiff_file("<", [(tag, kind, 1, struct.pack("<I", at))])
        artist = b"AdaLovelace\0"
        sent += struct.pack("<HHHII", 1, 315, 2, len(artist), at + 18) + bytes(4) + artist
        kept = without_metadata(sent, TIFF)
        assert kept is not None and b"AdaLovelace" not in kept, tag
        assert pages(kept) == pages(sent)


def test_reduced_pictures_chained_one_after_another_are_each_blanked() -> None:
    at = len(tiff_file("<", [(330, 4, 1, struct.pack("<I", 0))]))
    sent = tiff_file("<", [(330, 4, 1, struct.pack("<I", at))])
    for n, name in enumerate((b"SecretSoft0\0", b"SecretSoft1\0")):  # 18 + 12 bytes each
        here = at + 30 * n
        following = here + 30 if n == 0 else 0
        sent += struct.pack("<HHHII", 1, 305, 2, len(name), here + 18)
        sent += struct.pack("<I", following) + name
    kept = without_metadata(sent, TIFF)
    assert kept is not None and b"SecretSoft" not in kept


def test_an_old_jpeg_stream_of_no_parts_is_unreadable() -> None:
    with pytest.raises(Unreadable):
        without_metadata(tiff_file("<", [(513, 4, 0, b""), (514, 4, 0, b"")]), TIFF)


def test_directories_nested_too_deep_are_not_followed() -> None:
    depth = 1200  # reduced pictures within reduced pictures: past Python's recursion limit
    nested = b"".join(
        struct.pack("<HHHII", 1, 330, 4, 1, 8 + 18 * (n + 1) if n + 1 < depth else 0) + bytes(4)
        for n in range(depth)
    )
    with pytest.raises(Unreadable):
        without_metadata(b"II\x2a\x00" + struct.pack("<I", 8) + nested, TIFF)


@pytest.mark.parametrize(
    "data",
    [
        tiff_file("<", [], next_ifd=8),  # the page is its own next page: a loop
        tiff_file("<", [(270, 2, 64, struct.pack("<I", 10_000))]),  # a value past the end
        tiff_file("<", [(34665, 4, 1, struct.pack("<I", 9_999_999))]),  # Exif past the end
        b"II\x2a\x00" + struct.pack("<I", 4_000_000),  # a first page past the end
    ],
)
def test_a_scan_laid_out_wrongly_is_said_to_be_unreadable(data: bytes) -> None:
    with pytest.raises(Unreadable):
        without_metadata(data, TIFF)


def test_a_scan_of_too_many_pages_is_not_followed() -> None:
    count = tiff.MAX_DIRECTORIES + 1  # empty directories, each pointing to the next
    chained = b"".join(
        struct.pack("<HI", 0, 8 + 6 * (n + 1) if n + 1 < count else 0) for n in range(count)
    )
    with pytest.raises(Unreadable):
        without_metadata(b"II\x2a\x00" + struct.pack("<I", 8) + chained, TIFF)
    one = struct.pack("<IHI", 8, 0, 0)  # one empty directory: nothing to blank
    assert without_metadata(b"II\x2a\x00" + one, TIFF) is None


def test_a_big_tiff_is_left_as_sent() -> None:
    assert without_metadata(b"II\x2b\x00\x08\x00\x00\x00" + bytes(16), TIFF) is None


def test_a_scan_a_patient_sends_is_kept_and_served_without_its_metadata(ada_portal) -> None:
    data = sent_and_served(ada_portal, "card.tif", SCAN)
    assert data == without_metadata(SCAN, TIFF)
    assert Blob.objects.get().size == len(SCAN)


def test_a_scan_whose_pages_cannot_be_followed_is_refused_as_damaged(ada_portal) -> None:
    looped = tiff_file("<", [], next_ifd=8)
    answer = send(ada_portal, body="My card.", attachments=[named("card.tif", looped)])
    assert answer.status_code == 400
    assert "“card.tif” is a TIFF image that cannot be opened: it may be damaged" in answer.text
    assert not Attachment.objects.exists() and not Blob.objects.exists()
