"""A TIFF's metadata, blanked where it lies (ASVS 14.2.8).

Scanners make TIFF files: an insurance card, a referral letter, a fax, several pages in one
file. Each page is a directory of tags, and beside the picture's own (its size, its strips, its
colours) the tags may say who scanned or sent it and on which computer, with which program and
when, a serial number, an Exif directory (dates, the owner's name), GPS coordinates, XMP and
IPTC records, Windows' title, author and comment, a fax's sender.

Rewriting the file would move every strip and every offset. So, as for HEIC (content.heif),
nothing moves. Only the tags a picture needs to be shown are kept (KEPT_TAGS); every other
tag's value is overwritten with zeros where it lies (XMP with a packet that says nothing), and
the Exif, GPS and interoperability directories are emptied (no entries, their values zeroed),
as is any other directory a tag points to. Every page's directory is walked, and the reduced
pictures a page points to (SubIFDs, and those chained after them).

The file is read through first, and nothing is written unless every value to blank lies inside
the file, apart from every other, and outside the pictures' strips and tiles and the kept tags'
values: so no picture byte is overwritten, and blanking costs at most one pass over the file.
Refused as unreadable (the caller refuses the upload as damaged): a file that breaks that, or
whose directories loop, lie outside it, nest deeper than MAX_DEPTH, or are more than
MAX_DIRECTORIES or MAX_ENTRIES in all.
BigTIFF (for files over 4 GB, which no upload here reaches) is left as sent.
"""

from __future__ import annotations

import bisect
import itertools
import struct
from typing import Literal

from clinicportal.content.heif import empty_xmp

MAX_DIRECTORIES = 10_000
MAX_ENTRIES = 100_000
MAX_SUB_IFDS = 64
MAX_DEPTH = 4  # directories within directories: a page's reduced pictures, Exif's interop
MAX_PICTURE_PARTS = 1_000_000  # strips or tiles in all: a row a strip, for 1,000,000 rows

# The tags a picture needs: its layout, its strips or tiles, its colours and compression, which
# way up it is, its page number, its colour profile (ICC). Every other tag's value is blanked.
KEPT_TAGS = frozenset(
    {254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 274, 277, 278, 279, 280, 281}
    | {282, 283, 284, 286, 287, 290, 291, 292, 293, 296, 297, 301, 317, 318, 319, 320, 321}
    | {322, 323, 324, 325, 332, 334, 336, 338, 339, 340, 341, 347, 512, 513, 514, 515, 517}
    | {518, 519, 520, 521, 529, 530, 531, 532, 559, 32995, 32996, 32997, 32998, 34675}
)
XMP = 700
# Exif, GPS, interoperability, global parameters, Kodak's: emptied, as is any other directory a
# tag of the IFD type points to.
METADATA_DIRECTORIES = frozenset({34665, 34853, 40965, 400, 33424})
IFD_TYPE = 13
SUB_IFDS = 330  # reduced-resolution pictures of the page: directories like the page's
PICTURE_PARTS = {273: 279, 324: 325}  # strip and tile offsets, with their byte counts' tags
OLD_JPEG, OLD_JPEG_LENGTH = 513, 514  # an old-style JPEG stream: where, and how long
OLD_JPEG_TABLES = {519: 64}  # quantisation tables, 64 bytes each (Huffman's: 520, 521)
OLD_JPEG_HUFFMAN = (520, 521)
# Bytes per value, by the field type's number (1 BYTE ... 13 IFD).
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_NUMBERS = {3: "H", 4: "I", 13: "I"}  # the types an offset or a byte count may be


class Malformed(Exception):
    """The file's directories cannot be followed, or its values cannot be blanked safely."""


class _Tiff:
    """One pass over the directories: what to blank, and what must stay as it is."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.order: Literal["<", ">"] = "<" if data[:2] == b"II" else ">"
        self.seen: set[int] = set()
        self.entries = 0
        self.parts = 0
        self.blanks: list[tuple[int, int, bool]] = []  # where, length, whether XMP goes there
        self.outside = 0  # bytes of the blanks outside their entries: never more than the file
        self.kept: list[tuple[int, int]] = [(0, 8)]  # the header, pictures, kept values

    def number(self, start: int, size: int) -> int:
        if start < 0 or start + size > len(self.data):
            raise Malformed
        return int.from_bytes(
            self.data[start : start + size], "little" if self.order == "<" else "big"
        )

    def numbers(self, where: int, kind: int, count: int) -> tuple[int, ...]:
        """The ``count`` offsets or byte counts (SHORT or LONG) stored at ``where``."""
        if kind not in _NUMBERS:
            raise Malformed
        return struct.unpack_from(f"{self.order}{count}{_NUMBERS[kind]}", self.data, where)

    def entry(self, at: int) -> tuple[int, int, int, int, int]:
        """(tag, type, count, where its value lies, the value's length) of an entry."""
        tag, kind, count = self.number(at, 2), self.number(at + 2, 2), self.number(at + 4, 4)
        length = TYPE_SIZES.get(kind, 1) * count
        where = at + 8 if length <= 4 else self.number(at + 8, 4)
        if where + length > len(self.data):
            raise Malformed
        return tag, kind, count, where, length

    def directory(self, at: int) -> tuple[int, int]:
        """(entries, the next directory's offset) of the directory at ``at``, counted once."""
        if at in self.seen or len(self.seen) >= MAX_DIRECTORIES:
            raise Malformed
        self.seen.add(at)
        count = self.number(at, 2)
        self.entries += count
        if self.entries > MAX_ENTRIES:
            raise Malformed
        return count, self.number(at + 2 + 12 * count, 4)

    def blank(self, where: int, length: int, xmp: bool = False) -> None:
        """Plan ``length`` bytes at ``where`` blanked (with an empty XMP packet, for XMP). Blanks
        that add up to more than the file must overlap: refused before anything more is read."""
        if length > 4:
            self.outside += length
            if self.outside > len(self.data):
                raise Malformed
        self.blanks.append((where, length, xmp))

    def picture(self, at: int, depth: int = 0) -> int:
        """Plan one picture directory's blanking, and its reduced pictures'; return the next
        page's directory (0 after the last)."""
        if depth > MAX_DEPTH:
            raise Malformed
        count, following = self.directory(at)
        self.kept.append((at, at + 2 + 12 * count + 4))
        parts: dict[int, tuple[int, int, int]] = {}
        for n in range(count):
            tag, kind, number, where, length = self.entry(at + 2 + 12 * n)
            if tag in KEPT_TAGS:
                parts[tag] = (where, kind, number)
                if length > 4:
                    self.kept.append((where, where + length))
            elif tag == SUB_IFDS:
                if number > MAX_SUB_IFDS:
                    raise Malformed
                for inner in self.numbers(where, kind, number):
                    while inner:  # a reduced picture, and those chained after it
                        inner = self.picture(inner, depth + 1)
            elif tag in METADATA_DIRECTORIES or kind == IFD_TYPE:
                self.pointed(kind, number, where, depth + 1)
            else:
                self.blank(where, length, xmp=tag == XMP)
        for offsets, counts in PICTURE_PARTS.items():
            if offsets in parts and counts in parts:
                self.picture_parts(parts[offsets], parts[counts])
        self.old_jpeg(parts)
        return following

    def old_jpeg(self, parts: dict[int, tuple[int, int, int]]) -> None:
        """Note where an old-style JPEG stream and its tables lie: they are the picture too."""
        if OLD_JPEG in parts and OLD_JPEG_LENGTH in parts:
            starts, lengths = (self.numbers(*parts[tag]) for tag in (OLD_JPEG, OLD_JPEG_LENGTH))
            if len(starts) != 1 or len(lengths) != 1:
                raise Malformed
            self.kept.append((starts[0], starts[0] + lengths[0]))
        for tag, size in OLD_JPEG_TABLES.items():
            if tag in parts:
                self.kept.extend((start, start + size) for start in self.numbers(*parts[tag]))
        for tag in OLD_JPEG_HUFFMAN:
            if tag in parts:
                for start in self.numbers(*parts[tag]):  # 16 counts, then that many values
                    counts = self.data[start : start + 16]
                    self.kept.append((start, start + 16 + sum(counts)))

    def picture_parts(self, offsets: tuple[int, int, int], counts: tuple[int, int, int]) -> None:
        """Note where a page's strips (or tiles) lie: nothing may be blanked there."""
        if offsets[2] != counts[2]:
            raise Malformed
        self.parts += offsets[2]
        if self.parts > MAX_PICTURE_PARTS:
            raise Malformed
        starts, lengths = self.numbers(*offsets), self.numbers(*counts)
        self.kept.extend(
            (start, start + length) for start, length in zip(starts, lengths, strict=True)
        )

    def pointed(self, kind: int, number: int, where: int, depth: int) -> None:
        """Empty the directories of metadata a pointer tag names (it still points to them)."""
        if number > MAX_SUB_IFDS:
            raise Malformed
        for inner in self.numbers(where, kind, number):
            if inner:
                self.emptied(inner, depth)

    def emptied(self, at: int, depth: int) -> None:
        """Plan a directory of metadata emptied: its values zeroed (and those of the
        directories it points to, as Exif does to interoperability's), then its entries."""
        if depth > MAX_DEPTH:
            raise Malformed
        count, _ = self.directory(at)
        for n in range(count):
            tag, kind, number, where, length = self.entry(at + 2 + 12 * n)
            if tag in METADATA_DIRECTORIES or kind == IFD_TYPE:
                self.pointed(kind, number, where, depth + 1)
            elif length > 4:
                self.blank(where, length)
        self.blank(at, 2 + 12 * count + 4)

    def checked(self) -> None:
        """Refuse blanks that overlap one another, a picture, a kept value or a page's
        directory. (A value of four bytes or fewer lies in its entry, and is blanked there.)"""
        outside = sorted((where, where + length) for where, length, _ in self.blanks if length > 4)
        for (_, end), (start, _) in itertools.pairwise(outside):
            if start < end:
                raise Malformed
        kept: list[tuple[int, int]] = []  # merged: sorted, apart, so their ends are sorted too
        for start, end in sorted(self.kept):
            if kept and start <= kept[-1][1]:
                kept[-1] = (kept[-1][0], max(kept[-1][1], end))
            else:
                kept.append((start, end))
        starts = [start for start, _ in kept]
        for start, end in outside:
            before = bisect.bisect_left(starts, end) - 1  # the last kept range starting before
            if before >= 0 and kept[before][1] > start:
                raise Malformed


def tiff_without_metadata(data: bytes) -> bytes | None:
    """Return ``data`` with its metadata blanked, or None when there was none (or it is a
    BigTIFF). Raises Malformed for directories that cannot be followed or blanked safely."""
    if data[:4] not in (b"II\x2a\x00", b"MM\x00\x2a"):
        return None  # BigTIFF (43), or not a TIFF
    tiff = _Tiff(data)
    try:
        page = tiff.number(4, 4)
        while page:
            page = tiff.picture(page)
        tiff.checked()
    except (ValueError, struct.error):  # a count or a table that cannot be what it says
        raise Malformed from None
    out = bytearray(data)
    changed = False
    for where, length, xmp in tiff.blanks:
        empty = empty_xmp(length) if xmp else bytes(length)
        if out[where : where + length] != empty:
            out[where : where + length] = empty
            changed = True
    return bytes(out) if changed else None
