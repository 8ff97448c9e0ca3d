"""A photo is kept without where it was taken and the rest of its metadata (ASVS 14.2.8), with
every pixel, its colour profile and which way up it is (content/metadata.py)."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from clinicportal.content.metadata import Unreadable, without_metadata
from clinicportal.content.models import Blob
from clinicportal.content.sniff import JPEG, PNG
from clinicportal.messaging.models import Attachment
from tests.conftest import png_bytes
from tests.test_portal_messages import LIST, send
from tests.test_upload_failures import named
from tests.upload_faults import full_disk, left_in_tmp

GPS = 0x8825
ORIENTATION = 0x0112
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
# What a phone would append after the picture: another one (a depth map), with its own Exif.
APPENDED = b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00Hidden!!\xff\xd9"


def picture() -> Image.Image:
    image = Image.new("RGB", (64, 48))
    image.putdata([(x * 4 % 256, y * 5 % 256, x * y % 256) for y in range(48) for x in range(64)])
    return image


def phone_photo(*, orientation: int = 6, **save: object) -> bytes:
    """A JPEG as a phone takes it: where, on what, by whom, with a comment and XMP."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 15"
    exif[GPS] = {1: "N", 2: (43.0, 39.0, 12.5), 3: "W", 4: (70.0, 15.0, 1.0)}
    out = io.BytesIO()
    picture().save(
        out,
        "JPEG",
        exif=exif,
        icc_profile=ICC,
        comment=b"taken at home",
        xmp=b"<x:xmpmeta>Creator: Ada Lovelace</x:xmpmeta>",
        quality=90,
        **save,
    )
    return out.getvalue() + APPENDED


def assert_only_the_picture_is_left(kept: bytes, sent: bytes) -> None:
    for told in (b"PhoneMaker", b"Phone 15", b"taken at home", b"Ada Lovelace", b"Hidden"):
        assert told not in kept
    image, original = Image.open(io.BytesIO(kept)), Image.open(io.BytesIO(sent))
    assert not image.getexif().get_ifd(GPS)
    assert dict(image.getexif()) == {ORIENTATION: 6}  # still shown the right way up
    assert image.info.get("icc_profile") == ICC
    assert "comment" not in image.info and "xmp" not in image.info
    assert image.tobytes() == original.tobytes()  # the coded picture copied, not encoded again


@pytest.mark.parametrize("progressive", [False, True])
def test_a_phone_photo_keeps_its_picture_and_loses_what_it_says_of_its_owner(progressive):
    sent = phone_photo(progressive=progressive)
    assert b"PhoneMaker" in sent and Image.open(io.BytesIO(sent)).getexif().get_ifd(GPS)
    kept = without_metadata(sent, JPEG)
    assert kept is not None
    assert_only_the_picture_is_left(kept, sent)
    assert without_metadata(kept, JPEG) is None  # nothing more to take out


def segments(data: bytes) -> list[bytes]:
    """A JPEG's segments up to its first scan, each as written (marker, length, body)."""
    found, position = [], 2
    while data[position + 1] != 0xDA:
        length = int.from_bytes(data[position + 2 : position + 4])
        found.append(data[position : position + 2 + length])
        position += 2 + length
    return found


def with_segments(data: bytes, *added: bytes, after: int = 1) -> bytes:
    """``data`` with ``added`` written after its first ``after`` segments."""
    head = sum(len(s) for s in segments(data)[:after]) + 2
    return data[:head] + b"".join(added) + data[head:]


def segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(body) + 2).to_bytes(2) + body


def test_thumbnails_in_jfif_and_jfxx_and_data_behind_adobes_header_go() -> None:
    thumbnail = io.BytesIO()
    picture().resize((8, 6)).save(thumbnail, "JPEG")
    sent = phone_photo()
    jfif = segments(sent)[0]
    assert jfif[4:9] == b"JFIF\0"
    rgb = bytes(range(48)) * 3  # a 4 × 4 picture, three bytes a pixel
    with_thumbnail = jfif[4:16] + b"\x04\x04" + rgb
    sent = (
        b"\xff\xd8"
        + segment(0xE0, with_thumbnail)
        + segment(0xE0, b"JFXX\0\x10" + thumbnail.getvalue())
        + segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01" + b"Ada's kitchen")
        + sent[2 + len(jfif) :]
    )
    kept = without_metadata(sent, JPEG)
    assert kept is not None
    assert rgb not in kept and thumbnail.getvalue()[2:] not in kept and b"JFXX" not in kept
    assert b"kitchen" not in kept
    assert segments(kept)[0] == segment(0xE0, jfif[4:16] + b"\0\0")
    assert segments(kept)[1] == segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01")
    assert Image.open(io.BytesIO(kept)).tobytes() == picture_of(sent)


def picture_of(data: bytes) -> bytes:
    return Image.open(io.BytesIO(data)).tobytes()


def test_bytes_decoders_skip_between_segments_do_not_save_the_metadata() -> None:
    sent = phone_photo()
    padded = with_segments(sent, b"\0\0junk")
    assert Image.open(io.BytesIO(padded)).getexif().get_ifd(GPS)  # decoders read it all the same
    kept = without_metadata(padded, JPEG)
    assert kept is not None
    assert_only_the_picture_is_left(kept, sent)


def test_long_runs_of_fill_bytes_are_read_once_not_once_a_byte() -> None:
    """Each run of 0xFF is matched from its start only: read from every byte of it, 300,000 of
    them would take hours."""
    sent = phone_photo()
    end = sent.index(APPENDED) - 2
    padded = sent[:end] + b"\xff" * 300_000 + b"\x00" + sent[end:]
    kept = without_metadata(padded, JPEG)
    assert kept is not None and b"PhoneMaker" not in kept


def test_a_photo_without_its_end_marker_is_ended_as_decoders_end_it() -> None:
    sent = phone_photo()
    cut = sent[: sent.index(APPENDED) - 2]  # no EOI, nothing appended
    kept = without_metadata(cut, JPEG)
    assert kept is not None and kept.endswith(b"\xff\xd9")
    assert_only_the_picture_is_left(kept, sent)


def test_the_orientation_kept_is_the_one_viewers_read() -> None:
    """Viewers read the first Exif block; a second one cannot turn the picture."""
    out = io.BytesIO()
    picture().save(out, "JPEG")
    second = Image.Exif()
    second[ORIENTATION] = 6
    upright = Image.Exif()
    upright[ORIENTATION] = 1
    sent = with_segments(
        out.getvalue(),
        segment(0xE1, b"Exif\0\0" + upright.tobytes()),
        segment(0xE1, b"Exif\0\0" + second.tobytes()),
    )
    assert Image.open(io.BytesIO(sent)).getexif().get(ORIENTATION) == 1
    kept = without_metadata(sent, JPEG)
    assert kept is not None and b"Exif" not in kept


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_is_kept_whatever_the_byte_order(order, orientation) -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    exif._endian = order  # type: ignore[attr-defined]
    out = io.BytesIO()
    picture().save(out, "JPEG", exif=exif)
    kept = without_metadata(out.getvalue(), JPEG)
    assert kept is not None and b"PhoneMaker" not in kept
    assert Image.open(io.BytesIO(kept)).getexif().get(ORIENTATION, 1) == orientation


def test_a_photo_the_right_way_up_keeps_no_exif_at_all() -> None:
    kept = without_metadata(phone_photo(orientation=1), JPEG)
    assert kept is not None and b"Exif" not in kept


def test_a_picture_without_metadata_is_kept_byte_for_byte() -> None:
    out = io.BytesIO()
    picture().save(out, "JPEG")
    assert without_metadata(out.getvalue(), JPEG) is None
    assert without_metadata(png_bytes(), PNG) is None


def test_a_png_loses_its_text_time_and_exif_and_keeps_its_colour_profile() -> None:
    info = PngInfo()
    info.add_text("Author", "Ada Lovelace")
    info.add_itxt("Comment", "taken at home", zip=True)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    picture().save(out, "PNG", pnginfo=info, icc_profile=ICC, exif=exif)
    sent = out.getvalue() + b"after the end"
    kept = without_metadata(sent, PNG)
    assert kept is not None
    for told in (b"Ada Lovelace", b"taken at home", b"PhoneMaker", b"after the end"):
        assert told not in kept
    image = Image.open(io.BytesIO(kept))
    assert image.info.get("icc_profile") == ICC
    assert image.tobytes() == picture().tobytes()


def test_a_png_keeps_which_way_up_it_is() -> None:
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    picture().save(out, "PNG", exif=exif)
    kept = without_metadata(out.getvalue(), PNG)
    assert kept is not None and b"PhoneMaker" not in kept
    image = Image.open(io.BytesIO(kept))
    image.load()
    assert dict(image.getexif()) == {ORIENTATION: 6}


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\xff\xd8\xff\xe1\xff\xff", JPEG),  # a segment longer than the file
        (b"\xff\xd8\xff\xe1\x00\x01", JPEG),  # a segment shorter than its length
        (b"\xff\xd8 no marker follows", JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", PNG),  # a chunk cut off
    ],
)
def test_a_file_laid_out_wrongly_is_said_to_be_unreadable(data, kind) -> None:
    with pytest.raises(Unreadable):
        without_metadata(data, kind)


def sent_and_served(portal, name: str, sent: bytes) -> bytes:
    """Send ``sent`` as the patient's one attachment ``name``; return what the portal serves."""
    assert send(portal, attachments=[named(name, sent)]).status_code == 302
    attachment = Attachment.objects.get()
    served = portal.get(f"{LIST}files/{attachment.public_id}/download")
    return b"".join(served.streaming_content)


def test_a_photo_a_patient_sends_is_kept_and_served_without_its_metadata(ada_portal) -> None:
    sent = phone_photo()
    data = sent_and_served(ada_portal, "eye.jpg", sent)
    assert_only_the_picture_is_left(data, sent)
    assert Blob.objects.get().sha256 == hashlib.sha256(data).hexdigest()
    assert Blob.objects.get().size == len(data) < len(sent)


def test_a_disk_too_full_for_the_photo_without_its_metadata_keeps_nothing(
    ada_portal, monkeypatch
) -> None:
    sent = phone_photo()
    full_disk(monkeypatch, room=len(sent) + 100)  # room for the upload, not for its copy
    answer = send(ada_portal, body="My eye today.", attachments=[named("eye.jpg", sent)])
    assert answer.status_code == 503
    assert "The upload did not finish: the server’s file storage is full." in answer.text
    assert "My eye today." in answer.text
    assert left_in_tmp() == []
    assert not Attachment.objects.exists() and not Blob.objects.exists()


def test_a_photo_of_far_more_pieces_than_a_photo_has_is_not_followed() -> None:
    from clinicportal.content.metadata import JPEG_MARKERS_MAX, PNG_CHUNKS_MAX, _chunk

    tables = b"\xff\xc4\x00\x02"  # an empty table: a segment of no body, four bytes
    with pytest.raises(Unreadable):
        without_metadata(b"\xff\xd8" + tables * JPEG_MARKERS_MAX + b"\xff\xd9", JPEG)
    assert without_metadata(b"\xff\xd8" + tables * 100 + b"\xff\xd9", JPEG) is None
    header = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", bytes(13))
    with pytest.raises(Unreadable):
        without_metadata(header + _chunk(b"zzzz", b"") * PNG_CHUNKS_MAX + _chunk(b"IEND", b""), PNG)
    many = header + _chunk(b"IDAT", b"") * 100 + _chunk(b"IEND", b"")
    assert without_metadata(many, PNG) is None
