"""HEIC and GIF photos are kept without their metadata too (ASVS 14.2.8): a HEIC's Exif and XMP
items are blanked where they lie (content/heif.py), a GIF loses its comments and XMP.

tests/data/photos/phone.heic is a real HEIC: a 64 × 48 picture encoded by libheif's heif-enc,
then given GPS, a make and model and XMP by ExifTool, as a phone would:
    heif-enc -q 50 -o phone.heic picture.png
    exiftool -GPSLatitude=43.6591 -GPSLatitudeRef=N -GPSLongitude=70.2568 -GPSLongitudeRef=W \\
        -Make=Apple -Model="iPhone 15" -Orientation#=6 \\
        -XMP:Creator="Ada Lovelace" -XMP:Description="secret place" phone.heic
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image, ImageSequence

from clinicportal.content.metadata import Unreadable, without_metadata
from clinicportal.content.models import Blob
from clinicportal.content.sniff import GIF, HEIC
from clinicportal.messaging.models import Attachment
from tests.test_photo_metadata import sent_and_served
from tests.test_portal_messages import LIST, send
from tests.test_upload_failures import named

PHONE_HEIC = (Path(__file__).parent / "data" / "photos" / "phone.heic").read_bytes()
TOLD = (b"Apple", b"iPhone 15", b"Ada Lovelace", b"secret place")
XMP_TYPE = b"application/rdf+xml"


def exif_of(tiff: bytes) -> dict[int, object]:
    """What Pillow's own Exif reader finds in a TIFF block."""
    exif = Image.Exif()
    exif.load(b"Exif\x00\x00" + tiff)
    return dict(exif)


def changed_runs(before: bytes, after: bytes) -> list[tuple[int, int]]:
    """The runs of bytes that differ, as (start, end)."""
    runs: list[tuple[int, int]] = []
    for at in (i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b):
        if runs and runs[-1][1] == at:
            runs[-1] = (runs[-1][0], at + 1)
        else:
            runs.append((at, at + 1))
    return runs


def test_a_phone_heic_keeps_every_byte_of_its_picture_and_none_of_its_metadata() -> None:
    assert all(told in PHONE_HEIC for told in TOLD)
    kept = without_metadata(PHONE_HEIC, HEIC)
    assert kept is not None and len(kept) == len(PHONE_HEIC)  # nothing moved
    for told in TOLD:
        assert told not in kept
    # Only the Exif item (266 bytes, from its offset field) and the XMP item (2968) changed.
    exif = PHONE_HEIC.index(b"Exif\x00\x00MM") - 4  # its data, not its item type
    xmp = PHONE_HEIC.index(b"<?xpacket begin")
    for start, end in changed_runs(PHONE_HEIC, kept):
        assert exif <= start < end <= exif + 266 or xmp <= start < end <= xmp + 2968
    # The Exif left is one a reader takes, and says nothing; so is the XMP.
    assert kept[exif : exif + 10] == PHONE_HEIC[exif : exif + 10]  # its offset, "Exif\0\0"
    assert exif_of(kept[exif + 10 : exif + 266]) == {}
    packet = kept[xmp : xmp + 2968]
    assert packet.startswith(b"<?xpacket begin=") and packet.endswith(b'<?xpacket end="w"?>')
    assert b"<x:xmpmeta" in packet and b"rdf:Description" not in packet


def test_a_heic_without_metadata_and_one_already_without_are_kept_as_they_are() -> None:
    once = without_metadata(PHONE_HEIC, HEIC)
    assert once is not None
    assert without_metadata(once, HEIC) is None
    assert without_metadata(heif([(1, b"hvc1", b"")], iloc_entries=[]), HEIC) is None


# HEIF files put together here, for the layouts a phone's may have --------------------------


def box(kind: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4) + kind + payload


def full_box(kind: bytes, version: int, payload: bytes) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]) + payload)


def infe(item: int, item_type: bytes, content_type: bytes | None, version: int = 2) -> bytes:
    payload = item.to_bytes(2 if version == 2 else 4) + b"\0\0" + item_type + b"name\0"
    return full_box(b"infe", version, payload + (content_type + b"\0" if content_type else b""))


Extent = tuple[int, int]  # offset, length


def iloc(
    entries: list[tuple[int, int, list[Extent]]],
    version: int = 1,
    *,
    sizes: tuple[int, int, int, int] = (4, 4, 0, 0),
    base: int = 0,
) -> bytes:
    """Items' locations: (item id, construction method, extents). ``sizes`` are the widths of
    offsets, lengths, base offsets and extent indexes; every item has the ``base`` offset."""
    offset_size, length_size, base_size, index_size = sizes
    wide = version == 2
    payload = bytes([offset_size << 4 | length_size, base_size << 4 | index_size])
    payload += len(entries).to_bytes(4 if wide else 2)
    for item, method, extents in entries:
        payload += item.to_bytes(4 if wide else 2)
        payload += method.to_bytes(2) if version else b""
        payload += b"\0\0" + base.to_bytes(base_size) + len(extents).to_bytes(2)
        for offset, length in extents:
            payload += bytes(index_size) + offset.to_bytes(offset_size)
            payload += length.to_bytes(length_size)
    return full_box(b"iloc", version, payload)


def heif(
    items: list[tuple[int, bytes, bytes]],
    *,
    iloc_entries: list[tuple[int, int, list[Extent]]] | None = None,
    idat: bytes = b"",
    mdat: bytes = b"",
    infe_version: int = 2,
    iloc_version: int = 1,
    from_mdat: bool = False,
    **iloc_fields: object,
) -> bytes:
    """ftyp, meta (hdlr, iinf, iloc, idat) and mdat. ``items`` are (id, type, content type);
    by default each item's bytes are the whole of ``mdat``, located at their file offset;
    ``from_mdat``, the entries' offsets are counted from mdat's first byte."""
    ftyp = box(b"ftyp", b"heic\0\0\0\0mif1heic")
    iinf = full_box(
        b"iinf",
        0,
        len(items).to_bytes(2) + b"".join(infe(i, t, c or None, infe_version) for i, t, c in items),
    )

    def meta(entries: list[tuple[int, int, list[Extent]]]) -> bytes:
        parts = full_box(b"hdlr", 0, b"\0" * 4 + b"pict" + b"\0" * 13) + iinf
        parts += iloc(entries, iloc_version, **iloc_fields)  # type: ignore[arg-type]
        parts += box(b"idat", idat) if idat else b""
        return full_box(b"meta", 0, parts)

    if iloc_entries is None:
        iloc_entries, from_mdat = [(item, 0, [(0, len(mdat))]) for item, _, _ in items], True
    if from_mdat:  # the entries' file offsets are counted from mdat's first byte
        start = len(ftyp) + len(meta(iloc_entries)) + 8
        iloc_entries = [
            (item, method, [(offset + start * (method == 0), length) for offset, length in parts])
            for item, method, parts in iloc_entries
        ]
    return ftyp + meta(iloc_entries) + box(b"mdat", mdat)


EXIF_ITEM = (
    b"\0\0\0\x06Exif\0\0" + b"MM\0*\0\0\0\x08\0\x01\x01\x10\0\x02\0\0\0\x09\0\0\0\x1aPhone 15\0"
)


def test_xmp_in_the_meta_box_s_own_data_and_wide_ids_are_blanked_too() -> None:
    xmp = b"<?xpacket begin=''?><x:xmpmeta>Ada Lovelace</x:xmpmeta>" + b" " * 60
    data = heif(
        [(70000, b"mime", XMP_TYPE), (70001, b"mime", b"text/plain")],
        iloc_entries=[(70000, 1, [(0, len(xmp))]), (70001, 1, [(len(xmp), 5)])],
        idat=xmp + b"hello",
        infe_version=3,
        iloc_version=2,
    )
    kept = without_metadata(data, HEIC)
    assert kept is not None and len(kept) == len(data)
    assert b"Ada Lovelace" not in kept and b'<?xpacket end="w"?>hello' in kept


def test_an_exif_item_running_to_the_end_of_the_file_is_blanked_to_the_end() -> None:
    data = heif([(1, b"Exif", b"")], iloc_entries=None, mdat=EXIF_ITEM)
    start = data.index(EXIF_ITEM)
    to_the_end = data.replace(
        start.to_bytes(4) + len(EXIF_ITEM).to_bytes(4), start.to_bytes(4) + bytes(4)
    )
    kept = without_metadata(to_the_end, HEIC)
    assert kept is not None and b"Phone 15" not in kept
    assert exif_of(kept[start + 10 :]) == {}


def test_an_exif_item_too_short_for_an_empty_block_is_zeroed() -> None:
    short = b"\0\0\0\x06Exif\0\0MM\0*\0\0\0\x08"
    kept = without_metadata(heif([(1, b"Exif", b"")], mdat=short), HEIC)
    assert kept is not None and kept.endswith(bytes(len(short)))


def test_an_exif_item_in_parts_is_blanked_as_one_and_the_picture_between_them_kept() -> None:
    picture = b"coded picture bytes"
    cut = 14  # inside the TIFF block: the second part starts with no offset field of its own
    mdat = EXIF_ITEM[:cut] + picture + EXIF_ITEM[cut:]
    items = [(1, b"Exif", b""), (2, b"hvc1", b"")]
    at = len(heif(items, iloc_entries=[(1, 0, [(0, 0)] * 2), (2, 0, [(0, 0)])], mdat=mdat))
    at -= len(mdat)
    parts = [(at, cut), (at + cut + len(picture), len(EXIF_ITEM) - cut)]
    data = heif(items, iloc_entries=[(1, 0, parts), (2, 0, [(at + cut, len(picture))])], mdat=mdat)
    kept = without_metadata(data, HEIC)
    assert kept is not None and b"Phone 15" not in kept and picture in kept
    whole = kept[at : at + cut] + kept[at + cut + len(picture) : at + len(mdat)]
    assert whole.startswith(b"\0\0\0\x06Exif\0\0") and exif_of(whole[10:]) == {}


def test_a_maker_s_boxes_are_emptied_and_bytes_after_the_last_box_go() -> None:
    video = box(b"mpvd", b"an MP4 with GPS 43.6591 -70.2568")
    notes = box(
        b"uuid", b"\x85\xc0\xb6\x87\x82\x0f\x11\xe0\x81\x11\xf4\xce\x46\x2b\x6a\x48CMT4 GPS"
    )
    plain = heif([(1, b"Exif", b"")], mdat=EXIF_ITEM)
    data = plain + video + notes + b"MotionPhoto_Data and a video after it"
    kept = without_metadata(data, HEIC)
    assert kept is not None and len(kept) == len(plain) + len(video) + len(notes)
    for told in (b"GPS", b"MotionPhoto_Data", b"Phone 15"):
        assert told not in kept
    assert kept[len(plain) : len(plain) + 8] == video[:8]  # the box stays, emptied


def test_xmp_of_any_spelling_of_its_type_is_blanked() -> None:
    xmp = b"<x:xmpmeta>Ada Lovelace</x:xmpmeta>" + b" " * 80
    data = heif([(1, b"mime", b"Application/RDF+XML; charset=utf-8")], mdat=xmp)
    kept = without_metadata(data, HEIC)
    assert kept is not None and b"Ada Lovelace" not in kept


@pytest.mark.parametrize(
    ("version", "sizes", "base"),
    [
        (0, (4, 4, 0, 0), 0),  # the first version: no construction method
        (1, (8, 8, 4, 4), 16),  # 64-bit offsets and lengths, a base offset, extent indexes
        (2, (4, 0, 8, 0), 0),  # no lengths: each item runs to the end of the file
    ],
)
def test_item_locations_of_every_version_and_width_are_followed(version, sizes, base) -> None:
    probe = heif(
        [(1, b"Exif", b"")],
        iloc_entries=[(1, 0, [(0, 0)])],
        mdat=EXIF_ITEM,
        iloc_version=version,
        sizes=sizes,
    )
    at = len(probe) - len(EXIF_ITEM)
    data = heif(
        [(1, b"Exif", b"")],
        iloc_entries=[(1, 0, [(at - base, len(EXIF_ITEM) if sizes[1] else 0)])],
        mdat=EXIF_ITEM,
        iloc_version=version,
        sizes=sizes,
        base=base,
    )
    kept = without_metadata(data, HEIC)
    assert kept is not None and b"Phone 15" not in kept and len(kept) == len(data)


def test_a_box_with_a_64_bit_size_is_followed() -> None:
    data = heif([(1, b"Exif", b"")], mdat=EXIF_ITEM)
    at = data.index(b"mdat") - 4
    wide = data[:at] + b"\0\0\0\x01mdat" + (16 + len(EXIF_ITEM)).to_bytes(8) + EXIF_ITEM
    start = len(wide) - len(EXIF_ITEM)
    wide = wide.replace(
        (start - 8).to_bytes(4) + len(EXIF_ITEM).to_bytes(4),
        start.to_bytes(4) + len(EXIF_ITEM).to_bytes(4),
    )
    kept = without_metadata(wide, HEIC)
    assert kept is not None and b"Phone 15" not in kept


def test_a_picture_made_of_other_items_or_kept_elsewhere_is_left_alone() -> None:
    items = [(1, b"Exif", b""), (2, b"grid", b""), (3, b"hvc1", b"")]
    at = len(heif(items, mdat=EXIF_ITEM)) - len(EXIF_ITEM)
    data = heif(
        items,
        iloc_entries=[(1, 0, [(at, len(EXIF_ITEM))]), (2, 2, [(0, 1)]), (3, 0, [(0, 1)])],
        mdat=EXIF_ITEM,
    )
    external = data.replace(b"\0\x03\0\0\0\0\0\x01", b"\0\x03\0\0\0\x01\0\x01")
    for layout in (data, external):
        kept = without_metadata(layout, HEIC)
        assert kept is not None and b"Phone 15" not in kept


@pytest.mark.parametrize(
    "data",
    [
        b"",
        box(b"ftyp", b"heic") + b"\0\0\0\xffmeta",  # a box longer than the file
        box(b"ftyp", b"heic") + box(b"mdat", b"no meta box"),
        heif([(1, b"Exif", b"")], iloc_entries=[(1, 0, [(10_000, 20)])]),  # past the end
        heif([(1, b"Exif", b"")], iloc_entries=[(1, 2, [(0, 4)])]),  # made of other items
        heif([(1, b"Exif", b"")], iloc_entries=[(1, 1, [(0, 4)])]),  # in an idat it lacks
        heif([(1, b"Exif", b"")], iloc_entries=[(1, 0, [(0, 40)])]),  # in the boxes, not data
        heif(  # its bytes are the picture's too
            [(1, b"Exif", b""), (2, b"hvc1", b"")], mdat=EXIF_ITEM
        ),
        # More extents than the box holds, of no width: not read one by one, 65,535 times.
        heif([(1, b"Exif", b"")], iloc_entries=[(1, 0, [(0, 0)] * 65_535)], sizes=(0, 0, 0, 0)),
        # Two items of one id, in the item list or in the locations: whose bytes are whose?
        heif(
            [(1, b"Exif", b""), (1, b"hvc1", b"")],
            iloc_entries=[(1, 0, [(0, 40)])],
            mdat=EXIF_ITEM,
            from_mdat=True,
        ),
        heif(
            [(1, b"Exif", b"")],
            iloc_entries=[(1, 0, [(0, 9)]), (1, 0, [(9, 9)])],
            mdat=EXIF_ITEM,
            from_mdat=True,
        ),
        heif([(1, b"Exif", b"")], mdat=EXIF_ITEM, iloc_version=3),  # a version not yet made
        heif([(1, b"Exif", b"")], mdat=EXIF_ITEM, sizes=(4, 4, 0, 3)),  # a width of three
        box(b"ftyp", b"heic") + box(b"free", b"") * 10_001 + box(b"meta", b""),  # many boxes
    ],
)
def test_a_heic_laid_out_wrongly_is_said_to_be_unreadable(data) -> None:
    with pytest.raises(Unreadable):
        without_metadata(data, HEIC)


def test_metadata_in_parts_that_overlap_or_in_very_many_parts_is_refused() -> None:
    """Each part of the metadata is compared with every other extent: a few parts may be, but
    not tens of thousands (which a crafted file of a few kilobytes could claim)."""
    at = len(heif([(1, b"Exif", b"")], iloc_entries=[(1, 0, [(0, 0)] * 2)], mdat=EXIF_ITEM))
    at -= len(EXIF_ITEM)
    twice = [(at, len(EXIF_ITEM)), (at, len(EXIF_ITEM))]
    overlapping = heif([(1, b"Exif", b"")], iloc_entries=[(1, 0, twice)], mdat=EXIF_ITEM)
    mdat = EXIF_ITEM * 65
    at = len(heif([(1, b"Exif", b"")], iloc_entries=[(1, 0, [(0, 0)] * 65)], mdat=mdat))
    at -= len(mdat)
    many = [(at + n * len(EXIF_ITEM), len(EXIF_ITEM)) for n in range(65)]
    too_many = heif([(1, b"Exif", b"")], iloc_entries=[(1, 0, many)], mdat=mdat)
    assert without_metadata(
        heif([(1, b"Exif", b"")], iloc_entries=[(1, 0, many[:64])], mdat=mdat), HEIC
    )
    for data in (overlapping, too_many):
        with pytest.raises(Unreadable):
            without_metadata(data, HEIC)


def test_a_heic_a_patient_sends_is_kept_and_served_without_its_metadata(ada_portal) -> None:
    data = sent_and_served(ada_portal, "eye.heic", PHONE_HEIC)
    assert data == without_metadata(PHONE_HEIC, HEIC)
    assert Blob.objects.get().sha256 == hashlib.sha256(data).hexdigest()


# GIF ------------------------------------------------------------------------------------------


def animation(**save: object) -> bytes:
    frames = [Image.new("P", (8, 6), colour) for colour in (1, 2, 3)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 200, 30, 40, 30, 200, 40, 30, 40, 200])
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], loop=0, **save)
    return out.getvalue()


XMP_BLOCK = (
    b"\x21\xff\x0bXMP DataXMP"
    + b"<x:xmpmeta>Ada Lovelace</x:xmpmeta>"
    + bytes([1, *range(255, -1, -1), 0])  # XMP's "magic trailer", read as sub-blocks
)


def with_blocks(gif: bytes, *blocks: bytes) -> bytes:
    """The GIF with ``blocks`` inserted before its first frame's graphic control block."""
    at = gif.index(b"\x21\xf9")
    return gif[:at] + b"".join(blocks) + gif[at:]


def frames_of(data: bytes) -> list[bytes]:
    image = Image.open(io.BytesIO(data))
    return [frame.convert("RGB").tobytes() for frame in ImageSequence.Iterator(image)]


def test_a_gif_loses_its_comments_and_xmp_and_keeps_its_frames_and_loop() -> None:
    sent = (
        with_blocks(animation(comment=b"taken at 12 Elm St", duration=100), XMP_BLOCK)
        + b"appended after the end"
    )
    kept = without_metadata(sent, GIF)
    assert kept is not None
    for told in (b"Elm St", b"Ada Lovelace", b"XMP DataXMP", b"appended"):
        assert told in sent and told not in kept
    assert frames_of(kept) == frames_of(sent) and len(frames_of(kept)) == 3
    image = Image.open(io.BytesIO(kept))
    assert image.info["loop"] == 0 and image.info["duration"] == 100
    assert without_metadata(kept, GIF) is None  # nothing more to take out


def test_a_gif_without_its_trailer_is_followed_to_its_end() -> None:
    sent = animation(comment=b"taken at 12 Elm St").removesuffix(b"\x3b")
    kept = without_metadata(sent, GIF)
    assert kept is not None and b"Elm St" not in kept and frames_of(kept) == frames_of(sent)


def test_a_gif_keeps_its_colour_profile() -> None:
    profile = b"\x21\xff\x0bICCRGBG1012\x05prof!\x00"
    sent = with_blocks(animation(), profile, b"\x21\xfe\x03abc\x00")
    kept = without_metadata(sent, GIF)
    assert kept is not None and profile in kept and b"abc" not in kept


def test_a_gif_s_looping_block_keeps_only_how_often_it_loops() -> None:
    looping = b"\x21\xff\x0bNETSCAPE2.0\x03\x01"  # then the count, and an empty sub-block
    sent = animation()
    assert looping + b"\x00\x00\x00" in sent  # Pillow's: loop for ever
    padded = sent.replace(looping + b"\x00\x00\x00", looping + b"\x05\x00\x07Ada L.!\x00")
    kept = without_metadata(padded, GIF)
    assert kept is not None and b"Ada" not in kept and looping + b"\x05\x00\x00" in kept
    assert Image.open(io.BytesIO(kept)).info["loop"] == 5


def test_a_gif_of_far_more_blocks_than_its_size_needs_is_not_followed() -> None:
    header = animation()[: 13 + 6]  # the screen and a colour table of two
    flood = header + b"\x21\xf9\x00" * 400_000 + b"\x3b"  # 1.2 MB of empty blocks
    with pytest.raises(Unreadable):
        without_metadata(flood, GIF)
    frames = [Image.new("P", (4, 4), n % 4) for n in range(600)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], comment=b"c", loop=0)
    assert without_metadata(out.getvalue(), GIF) is not None  # a long animation is followed


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a\x08\x00\x06\x00\x00\x00\x00\x2c\x00\x00",  # a frame cut off
        b"GIF89a\x08\x00\x06\x00\x00\x00\x00\x21\xfe\x09abc\x00",  # a block past the end
        b"GIF89a\x08\x00\x06\x00\x00\x00\x00\x07",  # neither a frame nor an extension
        b"GIF89a\x08\x00",  # no screen descriptor
    ],
)
def test_a_gif_laid_out_wrongly_is_said_to_be_unreadable(data) -> None:
    with pytest.raises(Unreadable):
        without_metadata(data, GIF)


def test_a_gif_a_patient_sends_is_kept_without_its_comment(ada_portal) -> None:
    sent = animation(comment=b"taken at 12 Elm St")
    assert send(ada_portal, attachments=[named("eye.gif", sent)]).status_code == 302
    attachment = Attachment.objects.get()
    served = ada_portal.get(f"{LIST}files/{attachment.public_id}/download")
    data = b"".join(served.streaming_content)
    assert b"Elm St" not in data and frames_of(data) == frames_of(sent)


def test_a_heic_whose_boxes_cannot_be_followed_is_refused_as_damaged(ada_portal) -> None:
    cut = PHONE_HEIC[:700]  # cut off inside its picture's data: the boxes run past the end
    answer = send(ada_portal, body="My eye today.", attachments=[named("eye.heic", cut)])
    assert answer.status_code == 400
    assert "“eye.heic” is a HEIC image that cannot be opened: it may be damaged" in answer.text
    assert "My eye today." in answer.text
    assert not Attachment.objects.exists() and not Blob.objects.exists()
