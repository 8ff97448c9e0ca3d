"""Take out of an uploaded photo what it says beyond the picture (ASVS 14.2.8).

A photo from a phone carries where and when it was taken, the phone's make and serial number,
sometimes the owner's name, and thumbnails of the picture as it first was. None of that is the
practice's to keep. JPEG and PNG files, the photos patients send, are rewritten without it,
marker by marker or chunk by chunk: the picture's own bytes are copied as they are, never
decoded and encoded again, so not a pixel changes.

What is kept is only what showing the picture needs: JFIF's header (without its thumbnail),
the colour profile, Adobe's colour transform, which way up the picture is (a new Exif block
that says only that, from the first Exif block, as viewers read it), and what decoding needs.
Everything else goes: Exif, XMP, IPTC, comments, other application segments, PNG's text, time
and Exif chunks, and whatever follows the picture's end (phones append more pictures there,
such as depth maps, with metadata of their own). Bytes between segments that decoders skip
are skipped here too.

A GIF is rewritten block by block the same way: its comments and application blocks go (XMP
among them), but for those that say how often an animation loops and the colour profile. A
HEIC photo keeps its metadata as items beside the picture, and a TIFF scan in tags beside each
page's: their bytes are blanked where they lie (content.heif, content.tiff). A Word document
is packed again without its properties, its pictures losing theirs as a photo does
(content.docx).
"""

from __future__ import annotations

import re
import zlib
from typing import Literal

from clinicportal.content import docx, heif, tiff
from clinicportal.content.sniff import DOCX, GIF, HEIC, JPEG, PNG, TIFF, FileType

# What a photo may hold, each piece being a step in Python: a JPEG's markers (a progressive
# photo has a few dozen, with its scans), a PNG's chunks (its picture in pieces of 8 KB or more:
# a few thousand for a large photo). A file of millions of tiny pieces is not followed.
JPEG_MARKERS_MAX = 10_000
PNG_CHUNKS_MAX = 100_000
# And all the pictures of one Word document together: it may hold a thousand parts, each a
# picture of tiny pieces, in a few hundred kilobytes.
DOCUMENT_PICTURE_STEPS = JPEG_MARKERS_MAX + PNG_CHUNKS_MAX


class Unreadable(Exception):
    """The file is not laid out as its kind must be, so what it carries cannot be told apart
    from the picture."""


class _Steps:
    """What following a file, or one document's pictures together, may cost: each marker or
    chunk is a step; past the last, the file is not followed (Unreadable)."""

    def __init__(self, left: int) -> None:
        self.left = left

    def take(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise Unreadable


def without_metadata(data: bytes, file_type: FileType) -> bytes | None:
    """Return ``data`` without its metadata, or None when there is none to take out (or it is
    of a kind this does not rewrite). Raises Unreadable for a file this cannot follow."""
    if file_type is JPEG:
        return _jpeg(data)
    if file_type is PNG:
        return _png(data)
    if file_type is GIF:
        return _gif(data)
    try:
        if file_type is HEIC:
            return heif.heif_without_metadata(data)
        if file_type is TIFF:
            return tiff.tiff_without_metadata(data)
        if file_type is DOCX:
            steps = _Steps(DOCUMENT_PICTURE_STEPS)
            return docx.docx_without_metadata(data, lambda part: _in_document(part, steps))
    except (heif.Malformed, tiff.Malformed, docx.Malformed):
        raise Unreadable from None
    return None


def _in_document(data: bytes, steps: _Steps) -> bytes | None:
    """A JPEG or PNG picture inside a document without its metadata, within the ``steps``
    the document's pictures may take together; None for any other part or a picture without
    any."""
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data, steps)
    if data.startswith(_PNG_SIGNATURE):
        return _png(data, steps)
    return None


# Exif's orientation --------------------------------------------------------------------------

_ORIENTATION_TAG = 0x0112
_SHORT, _LONG = 3, 4


def _orientation(tiff: bytes) -> int | None:
    """The Orientation tag of an Exif (TIFF) block's first directory, or None: only a tag
    viewers would read too (the TIFF mark, one SHORT or LONG of 1 to 8)."""
    order: Literal["little", "big"]
    if tiff[:4] == b"II\x2a\x00":
        order = "little"
    elif tiff[:4] == b"MM\x00\x2a":
        order = "big"
    else:
        return None
    directory = int.from_bytes(tiff[4:8], order)
    if directory < 8 or directory + 2 > len(tiff):
        return None
    count = int.from_bytes(tiff[directory : directory + 2], order)
    for number in range(min(count, (len(tiff) - directory - 2) // 12)):
        entry = tiff[directory + 2 + 12 * number : directory + 14 + 12 * number]
        if int.from_bytes(entry[0:2], order) != _ORIENTATION_TAG:
            continue
        kind, how_many = int.from_bytes(entry[2:4], order), int.from_bytes(entry[4:8], order)
        if how_many != 1 or kind not in (_SHORT, _LONG):
            return None
        value = int.from_bytes(entry[8:10] if kind == _SHORT else entry[8:12], order)
        return value if 1 <= value <= 8 else None
    return None


def _orientation_tiff(orientation: int) -> bytes:
    """An Exif (TIFF) block that says only which way up the picture is."""
    return (
        b"MM\x00\x2a\x00\x00\x00\x08"  # big-endian, the first directory at 8
        + b"\x00\x01"  # one entry:
        + b"\x01\x12\x00\x03\x00\x00\x00\x01"  # Orientation, a SHORT, one of them,
        + orientation.to_bytes(2)
        + b"\x00\x00"
        + b"\x00\x00\x00\x00"  # no next directory
    )


# JPEG --------------------------------------------------------------------------------------

_APP0, _APP1, _APP2, _APP14, _APP15 = 0xE0, 0xE1, 0xE2, 0xEE, 0xEF
_COM, _SOS, _EOI = 0xFE, 0xDA, 0xD9
_NO_LENGTH = {0x01, *range(0xD0, 0xD8)}  # TEM and the restart markers
# A marker: 0xFF (after any fill bytes) and a byte that is neither 0x00 nor 0xFF. Matched only
# from the start of a run of 0xFF, taken whole: long runs cost their length once, not squared.
_MARKER = re.compile(rb"(?<!\xff)\xff++([^\x00\xff])")
# Where a scan's coded bytes end: at a marker other than a restart (FF 00 is a coded 0xFF).
_SCAN_END = re.compile(rb"(?<!\xff)\xff++[^\x00\xd0-\xd7\xff]")
_JFIF_HEADER = 14  # "JFIF\0", version, units, densities, thumbnail size (then the thumbnail)
_ADOBE = 12  # "Adobe", version, two flag words, the colour transform


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(body) + 2).to_bytes(2) + body


def _kept(marker: int, body: bytes, first_exif: bool) -> bytes:
    """What is kept of a segment: all of it, part of it, or nothing."""
    if marker == _APP0:  # JFIF's header, without the thumbnail it may carry; no JFXX
        if body.startswith(b"JFIF\0") and len(body) >= _JFIF_HEADER:
            return _segment(marker, body[: _JFIF_HEADER - 2] + b"\0\0")
        return b""
    if marker == _APP1:
        orientation = _orientation(body[6:]) if body.startswith(b"Exif\0\0") else None
        if first_exif and orientation not in (None, 1):
            return _segment(marker, b"Exif\0\0" + _orientation_tiff(orientation))
        return b""
    if marker == _APP2:
        return _segment(marker, body) if body.startswith(b"ICC_PROFILE\0") else b""
    if marker == _APP14:
        return _segment(marker, body[:_ADOBE]) if body.startswith(b"Adobe") else b""
    if _APP0 < marker <= _APP15 or marker == _COM:
        return b""
    return _segment(marker, body)


def _jpeg(data: bytes, steps: _Steps | None = None) -> bytes | None:
    if not data.startswith(b"\xff\xd8"):
        raise Unreadable
    out = [b"\xff\xd8"]
    changed = False
    first_exif = True
    position = 2
    view = memoryview(data)  # searched from a position without copying what follows it
    steps = steps or _Steps(JPEG_MARKERS_MAX)
    while True:
        steps.take()
        found = _MARKER.search(view[position:])
        if found is None:
            raise Unreadable
        changed |= found.start() > 0  # bytes before the marker, which decoders skip
        marker, position = found.group(1)[0], position + found.end()
        if marker == _EOI:
            out.append(b"\xff\xd9")
            changed |= position < len(data)  # pictures or data appended after the end
            break
        if marker in _NO_LENGTH:
            out.append(bytes((0xFF, marker)))
            continue
        length = int.from_bytes(data[position : position + 2])
        if length < 2 or position + length > len(data):
            raise Unreadable
        body = data[position + 2 : position + length]
        position += length
        kept = _kept(marker, body, first_exif)
        first_exif &= not (marker == _APP1 and body.startswith(b"Exif\0\0"))
        changed |= kept != data[position - length - 2 : position]
        out.append(kept)
        if marker == _SOS:  # the picture's coded bytes follow, up to the next real marker
            end = _SCAN_END.search(view[position:])
            if end is None:  # no end: decoders stop at the file's, as if it were there
                out += [data[position:], b"\xff\xd9"]
                changed = True
                break
            out.append(data[position : position + end.start()])
            position += end.start()
    return b"".join(out) if changed else None


# PNG ---------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The ancillary chunks that say how to show the picture; the others (text, time, Exif, and
# those of one program or another) go. Critical chunks (upper-case first letter) all stay.
_PNG_KEPT = frozenset(
    {b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCV", b"cLLI"}
    | {b"bKGD", b"hIST", b"pHYs", b"sPLT", b"acTL", b"fcTL", b"fdAT"}
)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4) + kind + body + zlib.crc32(kind + body).to_bytes(4)


def _png(data: bytes, steps: _Steps | None = None) -> bytes | None:
    if not data.startswith(_PNG_SIGNATURE):
        raise Unreadable
    out = [_PNG_SIGNATURE]
    changed = False
    first_exif = True
    position = len(_PNG_SIGNATURE)
    steps = steps or _Steps(PNG_CHUNKS_MAX)
    while True:
        steps.take()
        if position + 12 > len(data):
            raise Unreadable
        length = int.from_bytes(data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise Unreadable
        kept = data[position:end]
        if kind == b"eXIf":  # only which way up the picture is, from the first, as viewers read
            orientation = _orientation(data[position + 8 : end - 4]) if first_exif else None
            first_exif = False
            kept = b"" if orientation in (None, 1) else _chunk(kind, _orientation_tiff(orientation))
        elif not (kind[:1].isupper() or kind in _PNG_KEPT):
            kept = b""
        changed |= kept != data[position:end]
        out.append(kept)
        position = end
        if kind == b"IEND":
            changed |= position < len(data)
            break
    return b"".join(out) if changed else None


# GIF ---------------------------------------------------------------------------------------

_GIF_IMAGE, _GIF_EXTENSION, _GIF_TRAILER = 0x2C, 0x21, 0x3B
_GIF_GRAPHIC_CONTROL, _GIF_PLAIN_TEXT, _GIF_APPLICATION = 0xF9, 0x01, 0xFF
# How often an animation loops: its one sub-block of three bytes is kept, any more go.
_GIF_LOOPING = (b"NETSCAPE2.0", b"ANIMEXTS1.0")
_GIF_COLOUR_PROFILE = b"ICCRGBG1012"


class _GifBlocks:
    """Walks a GIF's blocks, counting its steps: encoders fill sub-blocks to 255 bytes, so a
    file of many more steps than its size needs (millions of tiny blocks, each one a step in
    Python) is not followed."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.steps_left = len(data) // 8 + 10_000

    def sub_blocks_end(self, position: int) -> int:
        """Where the run of sub-blocks starting at ``position`` ends, after its empty block."""
        data = self.data
        while True:
            self.steps_left -= 1
            if position >= len(data) or self.steps_left < 0:
                raise Unreadable
            size = data[position]
            position += 1 + size
            if size == 0:
                return position


def _gif_colour_table(packed: int) -> int:
    return 3 * 2 ** ((packed & 0x07) + 1) if packed & 0x80 else 0


def _gif_application(data: bytes, start: int, end: int) -> bytes:
    """What is kept of an application block: how often an animation loops (its one
    sub-block), or the colour profile; nothing of any other."""
    identifier = data[start + 3 : start + 3 + data[start + 2]]
    if identifier == _GIF_COLOUR_PROFILE:
        return data[start:end]
    loop = start + 3 + 11
    if identifier in _GIF_LOOPING and data[loop : loop + 2] == b"\x03\x01" and loop + 4 < end:
        return data[start : loop + 4] + b"\x00"
    return b""


def _gif(data: bytes) -> bytes | None:
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise Unreadable
    blocks = _GifBlocks(data)
    position = 13 + _gif_colour_table(data[10])
    out = bytearray()  # grown in place: a list of millions of small pieces would cost far more
    kept_from = 0  # the start of the run of blocks kept as they are, copied in one piece
    changed = False
    while True:
        if position == len(data):  # no trailer: decoders end the picture here all the same
            out += data[kept_from:]
            break
        start, introducer = position, data[position]
        if introducer == _GIF_TRAILER:
            out += data[kept_from : position + 1]
            changed |= position + 1 < len(data)  # whatever follows the picture's end
            break
        kept: bytes | None = None  # None: the block as it is
        if introducer == _GIF_IMAGE and position + 11 <= len(data):
            position += 10 + _gif_colour_table(data[position + 9]) + 1  # and the code size
            position = blocks.sub_blocks_end(position)
        elif introducer == _GIF_EXTENSION and position + 2 < len(data):
            label = data[position + 1]
            position = blocks.sub_blocks_end(position + 2)
            if label == _GIF_APPLICATION:
                kept = _gif_application(data, start, position)
            elif label not in (_GIF_GRAPHIC_CONTROL, _GIF_PLAIN_TEXT):
                kept = b""  # a comment, or one of no standard
        else:
            raise Unreadable
        if position > len(data):
            raise Unreadable
        if kept is not None and kept != data[start:position]:
            out += data[kept_from:start]
            out += kept
            kept_from = position
            changed = True
    return bytes(out) if changed else None
