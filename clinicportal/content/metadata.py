"""Take out of an uploaded photo what it says beyond the picture (ASVS 14.2.8).

A photo from a phone carries where and when it was taken, the phone's make and serial number,
sometimes the owner's name, and a thumbnail of the picture as it first was. None of that is
the practice's to keep. JPEG and PNG files, the photos patients send, are rewritten without it,
marker by marker or chunk by chunk: the picture's own bytes are copied as they are, never
decoded and encoded again, so nothing of the image is lost. What is kept: what the picture
needs to be shown as it was taken (its colour profile, which way up it is) and to be decoded.
Anything after the picture's end goes too: phones append more pictures there (depth maps),
with metadata of their own.

GIF, TIFF and HEIC files are kept as sent (TIFF and HEIC are downloaded, not shown).
"""

from __future__ import annotations

from typing import Literal

from clinicportal.content.sniff import JPEG, PNG, FileType


class Unreadable(Exception):
    """The file is not laid out as its kind should be; it is kept as it is."""


def without_metadata(data: bytes, file_type: FileType) -> bytes | None:
    """Return ``data`` without its metadata, or None when there is none to take out (or it is
    of a kind this does not rewrite). Raises Unreadable for a file this cannot follow."""
    if file_type is JPEG:
        return _jpeg(data)
    if file_type is PNG:
        return _png(data)
    return None


# JPEG --------------------------------------------------------------------------------------

_APP0, _APP1, _APP2, _APP14, _APP15 = 0xE0, 0xE1, 0xE2, 0xEE, 0xEF
_COM, _SOS, _EOI = 0xFE, 0xDA, 0xD9
_NO_LENGTH = {0x01, *range(0xD0, 0xD8)}  # TEM and the restart markers
_ORIENTATION_TAG = 0x0112


def _keeps(marker: int, body: bytes) -> bool:
    """Whether a segment is kept as it is: everything but the application segments and
    comments, except JFIF (APP0), the colour profile (APP2) and Adobe's colour transform (APP14)."""
    if marker == _APP2:
        return body.startswith(b"ICC_PROFILE\0")
    return not (_APP0 < marker <= _APP15 or marker == _COM) or marker == _APP14


def _jpeg(data: bytes) -> bytes | None:
    if not data.startswith(b"\xff\xd8"):
        raise Unreadable
    out = bytearray(b"\xff\xd8")
    changed = False
    position = 2
    while True:
        if position >= len(data) or data[position] != 0xFF:
            raise Unreadable
        while position < len(data) and data[position] == 0xFF:  # fill bytes
            position += 1
        if position >= len(data):
            raise Unreadable
        marker = data[position]
        position += 1
        if marker == _EOI:
            out += b"\xff\xd9"
            changed |= position < len(data)  # pictures or data appended after the end
            break
        if marker in _NO_LENGTH:
            out += bytes((0xFF, marker))
            continue
        length = int.from_bytes(data[position : position + 2])
        if length < 2 or position + length > len(data):
            raise Unreadable
        body = data[position + 2 : position + length]
        position += length
        segment = bytes((0xFF, marker)) + length.to_bytes(2) + body
        if not _keeps(marker, body):
            replacement = b""
            if marker == _APP1 and body.startswith(b"Exif\0\0"):
                orientation = _orientation(body[6:])
                if orientation not in (None, 1):
                    replacement = _orientation_segment(orientation)
            changed |= replacement != segment
            segment = replacement
        out += segment
        if marker == _SOS:  # the picture's coded bytes follow, up to the next real marker
            end = _scan_end(data, position)
            out += data[position:end]
            position = end
    return bytes(out) if changed else None


def _scan_end(data: bytes, start: int) -> int:
    """Where the coded bytes that start at ``start`` end: at the first marker that is not a
    stuffed 0xFF (FF 00), a restart marker or a fill byte."""
    position = start
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            raise Unreadable
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            position += 2
        elif following == 0xFF:
            position += 1
        else:
            return position


def _orientation(tiff: bytes) -> int | None:
    """The Orientation tag of an Exif block's first directory, or None."""
    order: Literal["little", "big"]
    if tiff[:2] == b"II":
        order = "little"
    elif tiff[:2] == b"MM":
        order = "big"
    else:
        return None
    directory = int.from_bytes(tiff[4:8], order)
    if directory + 2 > len(tiff):
        return None
    count = int.from_bytes(tiff[directory : directory + 2], order)
    for number in range(min(count, (len(tiff) - directory - 2) // 12)):
        entry = tiff[directory + 2 + 12 * number : directory + 14 + 12 * number]
        if int.from_bytes(entry[0:2], order) == _ORIENTATION_TAG:
            value = int.from_bytes(entry[8:10], order)
            return value if 1 <= value <= 8 else None
    return None


def _orientation_segment(orientation: int) -> bytes:
    """An Exif segment that says only which way up the picture is."""
    tiff = (
        b"MM\x00\x2a\x00\x00\x00\x08"  # big-endian, the first directory at 8
        + b"\x00\x01"  # one entry:
        + b"\x01\x12\x00\x03\x00\x00\x00\x01"  # Orientation, a SHORT, one of them,
        + orientation.to_bytes(2)
        + b"\x00\x00"
        + b"\x00\x00\x00\x00"  # no next directory
    )
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + (len(body) + 2).to_bytes(2) + body


# PNG ---------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The ancillary chunks that say how to show the picture; the others (text, time, Exif, and
# those of one program or another) go. Critical chunks (upper-case first letter) all stay.
_PNG_KEPT = frozenset(
    {b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCV", b"cLLI"}
    | {b"bKGD", b"hIST", b"pHYs", b"sPLT", b"acTL", b"fcTL", b"fdAT"}
)


def _png(data: bytes) -> bytes | None:
    if not data.startswith(_PNG_SIGNATURE):
        raise Unreadable
    out = bytearray(_PNG_SIGNATURE)
    changed = False
    position = len(_PNG_SIGNATURE)
    while True:
        if position + 12 > len(data):
            raise Unreadable
        length = int.from_bytes(data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise Unreadable
        if kind[:1].isupper() or kind in _PNG_KEPT:
            out += data[position:end]
        else:
            changed = True
        position = end
        if kind == b"IEND":
            changed |= position < len(data)
            break
    return bytes(out) if changed else None
