"""Blank the metadata of a HEIF (HEIC) photo in place, for content.metadata.

A HEIC photo from a phone keeps its metadata as items beside the picture: an Exif item (where
and when it was taken, the phone, its owner) and an XMP item. Their bytes are found through the
file's item table and overwritten where they lie, with an Exif that says nothing and an XMP
packet that says nothing, padded to the same length: nothing moves, so every offset in the
file stays right. Which way up the picture is, a HEIF file says in the picture's own
properties, which stay; HEIF readers ignore Exif's.

Beside the ``meta`` box (the item table) and the ``mdat`` box (the items' bytes), a file may
hold boxes of one maker or another: a motion photo's video with its own GPS (Samsung's
``mpvd``), a camera's notes (``uuid``), an image sequence's index (``moov``). Their contents
are zeroed where they lie. Bytes after the last box (an appended video) go.

The metadata's bytes must lie inside ``mdat`` or the item table's own data (``idat``) and
share none with another item: a file that says otherwise is not blanked but refused, so no
picture byte is ever overwritten. There is no HEIC decoder here to open the file again.

The boxes followed are those of ISO/IEC 14496-12 and 23008-12: a top-level ``meta``, its item
information (``iinf``, ``infe``), item locations (``iloc``) and item data (``idat``).
"""

from __future__ import annotations

from dataclasses import dataclass

# What an Exif item says once blanked: the offset of its TIFF block (6, after "Exif\0\0"),
# and an empty TIFF block: the byte-order mark and a first directory of no entries.
_EMPTY_EXIF = (6).to_bytes(4) + b"Exif\0\0" + b"MM\x00\x2a\x00\x00\x00\x08" + bytes(6)
_EMPTY_XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
)
_XMP_END = b'<?xpacket end="w"?>'
_XMP_TYPE = b"application/rdf+xml"
# Top-level boxes whose contents are kept: the file's brands, the item table, the items'
# bytes, and room left empty. Every other box's contents are zeroed.
_KEPT = frozenset({b"ftyp", b"meta", b"mdat", b"free", b"skip"})
# What one file may hold: boxes in one box, items, and item extents. A real photo of many
# tiles has a few hundred items; its metadata, an extent or two. More is refused unread, so a
# small crafted file cannot keep a worker busy.
_BOXES_MAX = 10_000
_EXTENTS_MAX = 10_000
_METADATA_EXTENTS_MAX = 64


class Malformed(Exception):
    """The boxes are not laid out as HEIF's must be."""


@dataclass(frozen=True)
class _Box:
    kind: bytes
    start: int  # of its payload
    end: int


def _boxes(data: bytes, start: int, end: int, *, top: bool = False) -> list[_Box]:
    """The boxes one after another from ``start`` to ``end``. At the ``top`` level, bytes
    after the last whole box are not a box: they are left out, not refused."""
    found: list[_Box] = []
    position = start
    while position < end:
        header, size = 8, int.from_bytes(data[position : position + 4])
        if size == 1:  # a 64-bit size follows the type
            header, size = 16, int.from_bytes(data[position + 8 : position + 16])
        elif size == 0:  # to the end of what holds it
            size = end - position
        if position + header > end or size < header or position + size > end:
            if top and found:
                break
            raise Malformed
        found.append(_Box(data[position + 4 : position + 8], position + header, position + size))
        if len(found) > _BOXES_MAX:
            raise Malformed
        position += size
    return found


class _Reader:
    """Big-endian fields read one after another within a box's payload."""

    def __init__(self, data: bytes, box: _Box) -> None:
        self.data, self.position, self.end = data, box.start, box.end

    def number(self, size: int) -> int:
        if self.position + size > self.end:
            raise Malformed
        value = int.from_bytes(self.data[self.position : self.position + size])
        self.position += size
        return value

    def text(self) -> bytes:
        """A NUL-terminated string (a missing NUL at the box's end is forgiven)."""
        stop = self.data.find(b"\0", self.position, self.end)
        stop = self.end if stop < 0 else stop
        value = self.data[self.position : stop]
        self.position = min(stop + 1, self.end)
        return value

    def left(self) -> int:
        return self.end - self.position


def _metadata_items(data: bytes, iinf: _Box) -> dict[int, bytes]:
    """The Exif items and the XMP items ("mime" items of XMP's type): b"Exif" or b"mime" by
    item id."""
    return {
        item: kind
        for item, (kind, content_type) in _item_types(data, iinf).items()
        if kind == b"Exif" or (kind == b"mime" and content_type == _XMP_TYPE)
    }


def _item_types(data: bytes, iinf: _Box) -> dict[int, tuple[bytes, bytes]]:
    """Each item's type, and a "mime" item's content type (b"" for others), by item id; an
    old entry names no type, and is left out."""
    reader = _Reader(data, iinf)
    version = reader.number(4) >> 24
    reader.number(2 if version == 0 else 4)  # how many entries: the boxes say themselves
    found = {}
    seen = set()
    for infe in _boxes(data, reader.position, iinf.end):
        if infe.kind != b"infe":
            continue
        entry = _Reader(data, infe)
        entry_version = entry.number(4) >> 24
        item = entry.number(4 if entry_version == 3 else 2)
        if item in seen:
            raise Malformed  # two items of one id: which bytes are whose cannot be told
        seen.add(item)
        if entry_version < 2:  # an old entry, without an item type
            continue
        entry.number(2)  # protection
        item_type = entry.number(4).to_bytes(4)
        entry.text()  # the item's name
        content_type = b""
        if item_type == b"mime":
            content_type = entry.text().split(b";")[0].strip().lower()
        found[item] = (item_type, content_type)
    return found


def _extents(
    data: bytes, end: int, iloc: _Box, idat: _Box | None, items: dict[int, bytes]
) -> list[tuple[int, range]]:
    """Where each item's bytes lie: (item id, range in the file up to ``end``) for each
    extent, in order.
    Items made of other items or kept in another file are left out, unless they are
    metadata, which cannot then be blanked."""
    reader = _Reader(data, iloc)
    version = reader.number(4) >> 24
    sizes = reader.number(2)
    offset_size, length_size = sizes >> 12, (sizes >> 8) & 0xF
    base_offset_size, index_size = (sizes >> 4) & 0xF, sizes & 0xF if version in (1, 2) else 0
    widths = (offset_size, length_size, base_offset_size, index_size)
    if version > 2 or any(size not in (0, 4, 8) for size in widths):
        raise Malformed
    extent_size = index_size + offset_size + length_size
    found: list[tuple[int, range]] = []
    count = reader.number(2 if version < 2 else 4)
    if count > _EXTENTS_MAX:
        raise Malformed
    seen = set()
    for _ in range(count):
        item = reader.number(2 if version < 2 else 4)
        if item in seen:
            raise Malformed
        seen.add(item)
        method = reader.number(2) & 0xF if version in (1, 2) else 0
        external = reader.number(2) != 0  # the data is in another file
        base = reader.number(base_offset_size)
        count = reader.number(2)
        if count * extent_size > reader.left() or (extent_size == 0 and count > 1):
            raise Malformed  # more extents than the box holds: no reading them one by one
        if len(found) + count > _EXTENTS_MAX:
            raise Malformed
        within = range(0, end)  # a file offset; or, by method 1, one in idat
        if method == 1 and idat is not None:
            within = range(idat.start, idat.end)
        elif external or method != 0:
            if item in items:
                raise Malformed  # elsewhere, or made of other items: cannot be blanked here
            reader.position += count * extent_size
            continue
        for _ in range(count):
            reader.number(index_size)
            offset, length = reader.number(offset_size), reader.number(length_size)
            start = within.start + base + offset
            stop = within.stop if length == 0 else start + length  # 0: to the end
            if not within.start <= start <= stop <= within.stop:
                raise Malformed
            found.append((item, range(start, stop)))
    return found


def _blank(block: bytearray, item_type: bytes) -> None:
    """An Exif that says nothing, or an XMP packet that says nothing padded with spaces, as
    XMP may be; zeros, or spaces, where there is no room for one."""
    if item_type == b"Exif":
        empty = _EMPTY_EXIF if len(block) >= len(_EMPTY_EXIF) else b""
        block[:] = empty + bytes(len(block) - len(empty))
        return
    block[:] = empty_xmp(len(block))


def empty_xmp(length: int) -> bytes:
    """``length`` bytes of an XMP packet that says nothing, padded with spaces as XMP may be;
    spaces alone where there is no room for one."""
    padding = length - len(_EMPTY_XMP) - len(_XMP_END)
    return _EMPTY_XMP + b" " * padding + _XMP_END if padding >= 0 else b" " * length


def _overlap(a: range, b: range) -> bool:
    return a.start < b.stop and b.start < a.stop


# The boxes in ``meta`` read here: each once, as HEIF has them (room left empty, ``free``,
# may come more than once).
_READ = frozenset({b"iinf", b"iloc", b"idat", b"iprp"})


def _top_and_meta(data: bytes) -> tuple[list[_Box], dict[bytes, _Box]]:
    """The file's top-level boxes, and the boxes in its ``meta`` box by kind."""
    top = _boxes(data, 0, len(data), top=True)
    meta = next((box for box in top if box.kind == b"meta"), None)
    if not top or top[0].kind != b"ftyp" or meta is None:
        raise Malformed
    children = _boxes(data, meta.start + 4, meta.end)
    read = [box.kind for box in children if box.kind in _READ]
    if len(set(read)) != len(read):
        raise Malformed  # two item tables, say: readers take the first, a dict the last
    return top, {box.kind: box for box in children}


def heif_pixels(data: bytes) -> int:
    """The most pixels a picture in the file says it has, in its size property (``ispe``, in
    ``iprp``'s ``ipco``) or, for a grid of tiles or an overlay, in its own data (the canvas a
    decoder draws), read without decoding.
    Raises Malformed for boxes that cannot be followed, or a file that gives no size, which
    a HEIF reader would not show either."""
    top, children = _top_and_meta(data)
    iprp = children.get(b"iprp")
    if iprp is None:
        raise Malformed
    containers = [box for box in _boxes(data, iprp.start, iprp.end) if box.kind == b"ipco"]
    if not containers:
        raise Malformed
    sizes = []
    for ispe in _boxes(data, containers[0].start, containers[0].end):
        if ispe.kind == b"ispe":
            reader = _Reader(data, ispe)
            reader.number(4)  # version and flags
            sizes.append(reader.number(4) * reader.number(4))
    if not sizes:
        raise Malformed
    return max(sizes + _canvas_pixels(data, top[-1].end, children))


# A picture made of others says its canvas's size in its own data: after its version and
# flags, a grid's rows and columns, an overlay's fill colour (ISO/IEC 23008-12, 6.6.2).
_CANVASES = {b"grid": 4, b"iovl": 10}
_WIDE = 1  # flags: the sizes are 32 bits, not 16


def _canvas_pixels(data: bytes, end: int, children: dict[bytes, _Box]) -> list[int]:
    """The canvas sizes, in pixels, of the pictures made of others (grids, overlays): a
    decoder draws those, whatever their tiles' ``ispe`` say."""
    iinf, iloc = children.get(b"iinf"), children.get(b"iloc")
    if iinf is None or iloc is None:
        return []
    canvases = {
        item: kind for item, (kind, _) in _item_types(data, iinf).items() if kind in _CANVASES
    }
    if not canvases:
        return []
    described: dict[int, bytes] = {}
    for item, where in _extents(data, end, iloc, children.get(b"idat"), {}):
        if item in canvases:
            described[item] = described.get(item, b"") + data[where.start : where.stop][:64]
    sizes = []
    for item, kind in canvases.items():
        body, skip = described.get(item, b""), _CANVASES[kind]
        width = 4 if len(body) > 1 and body[1] & _WIDE else 2
        if len(body) < skip + 2 * width:
            raise Malformed  # a canvas of no size: not shown
        across = int.from_bytes(body[skip : skip + width])
        down = int.from_bytes(body[skip + width : skip + 2 * width])
        sizes.append(across * down)
    return sizes


def heif_without_metadata(data: bytes) -> bytes | None:
    """Return ``data`` with its metadata blanked, or None when it has none.
    Raises Malformed for a file whose boxes cannot be followed."""
    top, children = _top_and_meta(data)
    end = top[-1].end
    iinf, iloc, idat = children.get(b"iinf"), children.get(b"iloc"), children.get(b"idat")
    items = _metadata_items(data, iinf) if iinf is not None else {}
    extents = _extents(data, end, iloc, idat, items) if iloc is not None else []
    holders = [box for box in top if box.kind == b"mdat"] + ([idat] if idat else [])
    out = bytearray(data[:end])
    for box in top:
        if box.kind not in _KEPT:
            out[box.start : box.end] = bytes(box.end - box.start)
    parts: dict[int, list[range]] = {item: [] for item in items}
    for index, (owner, where) in enumerate(extents):
        if owner not in parts:
            continue
        parts[owner].append(where)
        if sum(len(ranges) for ranges in parts.values()) > _METADATA_EXTENTS_MAX:
            raise Malformed
        inside = any(where.start >= h.start and where.stop <= h.end for h in holders)
        shared = any(
            other != index and _overlap(where, elsewhere)
            for other, (_, elsewhere) in enumerate(extents)
        )
        if not inside or shared:
            raise Malformed  # blanking it would overwrite more than the metadata
    for item, item_type in items.items():
        ranges = parts[item]
        block = bytearray(b"".join(out[where.start : where.stop] for where in ranges))
        _blank(block, item_type)
        position = 0
        for where in ranges:  # back where each part came from
            out[where.start : where.stop] = block[position : position + len(where)]
            position += len(where)
    return bytes(out) if out != data else None
