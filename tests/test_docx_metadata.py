"""A Word document is kept without who wrote it, where and when (ASVS 14.2.8), with its text and
pictures as they were (content/docx.py)."""

from __future__ import annotations

import io
import warnings
import zipfile

import pytest
from defusedxml import ElementTree
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from clinicportal.content.docx import ZIP_EPOCH
from clinicportal.content.metadata import Unreadable, without_metadata
from clinicportal.content.models import Blob
from clinicportal.content.sniff import DOCX
from tests.test_photo_metadata import GPS, phone_photo, picture, sent_and_served

PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DOCUMENT = (
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>Please see Ada about her left eye.</w:t></w:r></w:p></w:body>"
    "</w:document>"
)
CORE = (
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:title>Referral</dc:title><dc:creator>Dana Whitlock</dc:creator>"
    "<cp:lastModifiedBy>Dana Whitlock</cp:lastModifiedBy><cp:revision>3</cp:revision>"
    '<dcterms:created xsi:type="dcterms:W3CDTF">2026-11-29T09:12:00Z</dcterms:created>'
    "</cp:coreProperties>"
)
APP = (
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties"><Template>Normal.dotm</Template><TotalTime>42</TotalTime>'
    "<Application>Microsoft Office Word</Application><Company>Whitlock Optometry</Company>"
    "</Properties>"
)
CUSTOM = (
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    'docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" '
    'name="Case"><vt:lpwstr>Whitlock-0042</vt:lpwstr></property></Properties>'
)
TOLD = (b"Dana", b"Whitlock", b"Normal.dotm", b"Microsoft", b"2026-11-29", b"PhoneMaker", b"Ada L")


def png_with_text() -> bytes:
    told = PngInfo()
    told.add_text("Author", "Dana Whitlock")
    out = io.BytesIO()
    picture().save(out, "PNG", pnginfo=told)
    return out.getvalue()


def relationships(*targets: tuple[str, str]) -> str:
    return (
        f'<Relationships xmlns="{PACKAGE}">'
        + "".join(
            f'<Relationship Id="rId{number}" Type="{kind}" Target="{target}"/>'
            for number, (kind, target) in enumerate(targets, 1)
        )
        + "</Relationships>"
    )


STANDARD = relationships(
    (f"{OFFICE}/officeDocument", "word/document.xml"),
    (f"{PACKAGE}/metadata/core-properties", "docProps/core.xml"),
    (f"{OFFICE}/extended-properties", "docProps/app.xml"),
    (f"{OFFICE}/custom-properties", "docProps/custom.xml"),
    (f"{PACKAGE}/metadata/thumbnail", "docProps/thumbnail.jpeg"),
)


def word_document(
    *, rels: str = STANDARD, props: str = "docProps", photo: bytes | None = None
) -> bytes:
    """A Word document as Word saves one, but for its parts' dates, which say when."""
    parts = {
        "[Content_Types].xml": b"<Types/>",
        "_rels/.rels": rels.encode(),
        "word/document.xml": DOCUMENT.encode(),
        "word/media/image1.jpeg": phone_photo() if photo is None else photo,
        "word/media/image2.png": png_with_text(),
        f"{props}/core.xml": CORE.encode(),
        f"{props}/app.xml": APP.encode(),
        f"{props}/custom.xml": CUSTOM.encode(),
        "docProps/thumbnail.jpeg": phone_photo(orientation=1),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            part = zipfile.ZipInfo(name, date_time=(2026, 11, 29, 9, 12, 0))
            part.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(part, data)
    return out.getvalue()


def unpacked(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {part.filename: archive.read(part) for part in archive.infolist()}


def assert_nothing_told(kept: bytes) -> None:
    for name, part in unpacked(kept).items():
        for told in TOLD:
            assert told not in part, (name, told)


def test_a_word_document_keeps_its_text_and_pictures_and_loses_its_properties() -> None:
    sent = word_document()
    assert any(told in part for part in unpacked(sent).values() for told in TOLD)
    kept = without_metadata(sent, DOCX)
    assert kept is not None
    assert_nothing_told(kept)
    before, after = unpacked(sent), unpacked(kept)
    assert list(after) == list(before)  # every part, in the same order
    assert after["word/document.xml"] == before["word/document.xml"]
    for name in ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml"):
        assert not list(ElementTree.fromstring(after[name]))  # a properties part, empty
    for name in ("word/media/image1.jpeg", "word/media/image2.png", "docProps/thumbnail.jpeg"):
        picture_kept = Image.open(io.BytesIO(after[name]))
        assert picture_kept.tobytes() == Image.open(io.BytesIO(before[name])).tobytes()
        assert not picture_kept.getexif().get_ifd(GPS)
    with zipfile.ZipFile(io.BytesIO(kept)) as archive:
        assert {part.date_time for part in archive.infolist()} == {ZIP_EPOCH}
        assert {part.compress_type for part in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    assert without_metadata(kept, DOCX) is None  # nothing more to take out


def test_properties_wherever_the_package_says_they_are_are_emptied() -> None:
    elsewhere = relationships(
        (f"{OFFICE}/officeDocument", "word/document.xml"),
        (f"{PACKAGE}/metadata/core-properties", "/props/core.xml"),
        (f"{OFFICE}/extended-properties", "props/./app.xml"),
        (f"{OFFICE}/custom-properties", "props/custom.xml"),
    )
    kept = without_metadata(word_document(rels=elsewhere, props="props"), DOCX)
    assert kept is not None
    assert_nothing_told(kept)


def one_part(part: zipfile.ZipInfo, data: bytes = DOCUMENT.encode()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(part, data)
    return out.getvalue()


def test_the_zip_s_comments_and_extra_fields_go() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        part = zipfile.ZipInfo("word/document.xml", date_time=ZIP_EPOCH)
        part.comment = b"saved on DANA-LAPTOP"
        archive.writestr(part, DOCUMENT)
        archive.comment = b"Whitlock Optometry"
    kept = without_metadata(out.getvalue(), DOCX)
    assert kept is not None and b"DANA" not in kept and b"Whitlock" not in kept
    noted = zipfile.ZipInfo("word/document.xml", date_time=ZIP_EPOCH)
    noted.extra = b"UT\x05\x00\x01" + (1_796_000_000).to_bytes(4, "little")  # a time saved
    kept = without_metadata(one_part(noted), DOCX)
    assert kept is not None
    with zipfile.ZipFile(io.BytesIO(kept)) as archive:
        assert archive.getinfo("word/document.xml").extra == b""


def test_parts_keep_how_they_were_packed_and_what_they_are_named() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        stored = zipfile.ZipInfo("word/document.xml", date_time=(2026, 11, 29, 9, 12, 0))
        archive.writestr(stored, DOCUMENT)  # stored, not compressed
        archive.writestr(zipfile.ZipInfo("word/media/bildABCD.png", ZIP_EPOCH), png_with_text())
        archive.writestr(zipfile.ZipInfo("word/fonts/font1.odttf", ZIP_EPOCH), b"\xff\xd8" * 9)
    # "bildüü" in UTF-8, in place of the name's four letters, as many programs write it:
    # without the flag that says it is UTF-8.
    sent = out.getvalue().replace(b"bildABCD", "bildüü".encode())
    kept = without_metadata(sent, DOCX)
    assert kept is not None
    with zipfile.ZipFile(io.BytesIO(kept)) as archive:
        assert archive.namelist() == [
            "word/document.xml",
            "word/media/bildüü.png",
            "word/fonts/font1.odttf",
        ]
        assert archive.getinfo("word/document.xml").compress_type == zipfile.ZIP_STORED
        assert b"Dana" not in archive.read("word/media/bildüü.png")
        assert archive.read("word/fonts/font1.odttf") == b"\xff\xd8" * 9  # no picture


def test_a_document_with_nothing_to_take_out_is_kept_as_it_is() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("word/document.xml", date_time=ZIP_EPOCH), DOCUMENT)
    assert without_metadata(out.getvalue(), DOCX) is None


def two_parts_of_one_name() -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as archive:
        warnings.simplefilter("ignore")  # zipfile warns of the second: that is the point
        archive.writestr("docProps/core.xml", CORE)
        archive.writestr("docProps/core.xml", CORE)
    return out.getvalue()


def with_relationships(text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("_rels/.rels", text)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(two_parts_of_one_name(), id="two parts of one name"),
        pytest.param(with_relationships("<Relationships"), id="relationships cut off"),
        pytest.param(
            with_relationships(f'<Relationships xmlns="{PACKAGE}">' + "<a/>" * 300_000 + "</"),
            id="relationships too long to read",
        ),
        pytest.param(
            with_relationships(
                '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                f'<Relationships xmlns="{PACKAGE}">&b;</Relationships>'
            ),
            id="relationships with entities",
        ),
        pytest.param(
            word_document(photo=b"\xff\xd8\xff\xe1\xff\xff"),  # a segment past its end
            id="a picture laid out wrongly",
        ),
    ],
)
def test_a_document_that_cannot_be_followed_is_unreadable(data: bytes) -> None:
    with pytest.raises(Unreadable):
        without_metadata(data, DOCX)


def test_a_word_document_a_patient_sends_is_kept_and_served_without_its_metadata(
    ada_portal,
) -> None:
    sent = word_document()
    data = sent_and_served(ada_portal, "referral.docx", sent)
    assert data == without_metadata(sent, DOCX)
    assert Blob.objects.get().size == len(data)
    assert_nothing_told(data)


def test_the_pictures_of_one_document_are_followed_within_one_budget() -> None:
    from clinicportal.content.metadata import DOCUMENT_PICTURE_STEPS

    comments = 5_000  # each picture alone well within what one photo may have
    tiny = b"\xff\xd8" + b"\xff\xfe\x00\x02" * comments + b"\xff\xd9"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for number in range(DOCUMENT_PICTURE_STEPS // comments + 1):
            part = zipfile.ZipInfo(f"word/media/image{number}.jpeg", ZIP_EPOCH)
            part.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(part, tiny)
    assert len(out.getvalue()) < 200_000
    with pytest.raises(Unreadable):
        without_metadata(out.getvalue(), DOCX)


def renamed(data: bytes, placeholder: str, name: str) -> bytes:
    """``data`` with a part's name ``placeholder`` put as ``name`` in UTF-8, unmarked."""
    raw = name.encode()
    assert len(raw) == len(placeholder)
    return data.replace(placeholder.encode(), raw)


def test_two_parts_of_one_name_however_written_are_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("word/é.xml", ZIP_EPOCH), DOCUMENT)  # marked UTF-8
        archive.writestr(zipfile.ZipInfo("word/XY.xml", ZIP_EPOCH), DOCUMENT)
    with pytest.raises(Unreadable):
        without_metadata(renamed(out.getvalue(), "word/XY.xml", "word/é.xml"), DOCX)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("word/document.xml", ZIP_EPOCH), DOCUMENT)
        archive.writestr(zipfile.ZipInfo("word/Document.xml", ZIP_EPOCH), DOCUMENT)
    with pytest.raises(Unreadable):
        without_metadata(out.getvalue(), DOCX)


def test_properties_named_in_another_case_or_percent_encoded_are_emptied() -> None:
    elsewhere = relationships(
        (f"{PACKAGE}/metadata/core-properties", "/docProps/My%20Core.xml"),
        (f"{OFFICE}/extended-properties", "/docProps/APP2.xml"),
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("_rels/.rels", ZIP_EPOCH), elsewhere)
        archive.writestr(zipfile.ZipInfo("docProps/My Core.xml", ZIP_EPOCH), CORE)
        archive.writestr(zipfile.ZipInfo("docProps/app2.xml", ZIP_EPOCH), APP)
    kept = without_metadata(out.getvalue(), DOCX)
    assert kept is not None
    assert_nothing_told(kept)
    out = io.BytesIO()  # the part's own name percent-encoded too, as the package writes it
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("_rels/.rels", ZIP_EPOCH), elsewhere)
        archive.writestr(zipfile.ZipInfo("docProps/My%20Core.xml", ZIP_EPOCH), CORE)
    kept = without_metadata(out.getvalue(), DOCX)
    assert kept is not None
    assert_nothing_told(kept)
