"""Take out of an uploaded Word document what it says beyond its text (ASVS 14.2.8).

A Word document is a ZIP of parts. Three of them are only about the document: the core
properties (its author, who saved it last, when it was made and saved, how often, its title,
subject, keywords and comments), the extended ones (the program, the company, the manager, the
template, the minutes spent editing) and custom ones any program adds. Its pictures are the
camera's files, with where they were taken, and the ZIP itself says when each part was saved.

A document that carries any of that is packed again, part by part in the same order and the
same way: the three property parts hold nothing, each JPEG or PNG picture (the thumbnail of the
first page among them) loses its metadata as a photo does (content.metadata), and every part is
dated 1980-01-01, as Word dates its own, without the ZIP's comments and extra fields. The text,
its styles, comments and tracked changes (with their authors' names, which the reader sees)
are copied as they are.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from posixpath import normpath
from urllib.parse import unquote

from defusedxml import ElementTree

# A picture's bytes without their metadata, or None when it has none or is no picture.
PictureStripper = Callable[[bytes], bytes | None]

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# A package's relationships name a handful of parts in a few kilobytes; more is not read.
RELATIONSHIPS_MAX_BYTES = 1024 * 1024
# The parts that may be pictures, by name: Word's media and the first page's thumbnail.
PICTURE_NAMES = (".jpeg", ".jpg", ".png")
_UTF8_NAME = 0x800  # a part's name is UTF-8, not code page 437
_RELATIONSHIPS = "_rels/.rels"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_EMPTY_CORE = (
    _DECLARATION
    + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
).encode()
_EMPTY_EXTENDED = (
    _DECLARATION + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    'docPropsVTypes"/>'
).encode()
_EMPTY_CUSTOM = (
    _DECLARATION + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    'docPropsVTypes"/>'
).encode()
# Each property part by the type of the package's relationship to it (transitional, strict),
# and by the name Word, LibreOffice and the rest give it.
_EMPTY_BY_TYPE = {
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties": (
        _EMPTY_CORE
    ),
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties": (
        _EMPTY_EXTENDED
    ),
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties": (
        _EMPTY_CUSTOM
    ),
    "http://purl.oclc.org/ooxml/officeDocument/relationships/extendedProperties": (_EMPTY_EXTENDED),
    "http://purl.oclc.org/ooxml/officeDocument/relationships/customProperties": _EMPTY_CUSTOM,
}
_EMPTY_BY_NAME = {
    "docProps/core.xml": _EMPTY_CORE,
    "docProps/app.xml": _EMPTY_EXTENDED,
    "docProps/custom.xml": _EMPTY_CUSTOM,
}


class Malformed(Exception):
    """The document cannot be followed: parts of one name, or relationships that do not
    parse, or a picture whose layout cannot be followed."""


def docx_without_metadata(data: bytes, picture: PictureStripper) -> bytes | None:
    """Return the Word document in ``data`` without its metadata, or None when there is none
    to take out. ``picture`` takes a picture's out. The archive has been checked already
    (content.archive): its parts are few enough and unpack to little enough to hold."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            names = [_name(part) for part in parts]
            # Part names are the same whatever their case or percent-encoding: which of two
            # parts of one name a reader takes is its own.
            if len({_same(name) for name in names}) != len(parts):
                raise Malformed
            emptied = _property_parts(archive)
            changed = bool(archive.comment)
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as packed:
                for part, name in zip(parts, names, strict=True):
                    sent = archive.read(part)
                    kept = emptied.get(_same(name)) or _picture(name, sent, picture)
                    changed |= kept != sent or _dated_or_noted(part)
                    written = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
                    written.compress_type = part.compress_type
                    packed.writestr(written, kept)
    except Malformed:
        raise
    except Exception:  # zipfile, the XML parser and the picture's stripper raise many kinds
        raise Malformed from None
    return out.getvalue() if changed else None


def _property_parts(archive: zipfile.ZipFile) -> dict[str, bytes]:
    """The names of the parts that are only about the document (as _same compares them), each
    with what it is to hold instead: those the package's relationships name, and those at
    their usual names."""
    emptied = {_same(name): empty for name, empty in _EMPTY_BY_NAME.items()}
    if _RELATIONSHIPS not in archive.namelist():
        return emptied
    if archive.getinfo(_RELATIONSHIPS).file_size > RELATIONSHIPS_MAX_BYTES:
        raise Malformed
    for relationship in ElementTree.fromstring(archive.read(_RELATIONSHIPS)).iter(_RELATIONSHIP):
        empty = _EMPTY_BY_TYPE.get(relationship.get("Type", ""))
        target = relationship.get("Target", "")
        if empty is not None and relationship.get("TargetMode") != "External" and target:
            emptied[_same(normpath(target.lstrip("/")))] = empty
    return emptied


def _picture(name: str, data: bytes, picture: PictureStripper) -> bytes:
    """A part named as a picture, without its metadata; any other part as it is."""
    if not name.lower().endswith(PICTURE_NAMES):
        return data
    return picture(data) or data


def _name(part: zipfile.ZipInfo) -> str:
    """The part's name, to be written as UTF-8. A name not marked UTF-8 is read as code page
    437, though many programs write UTF-8 without saying so: such a name, read again as UTF-8,
    is what the document's relationships mean."""
    if part.flag_bits & _UTF8_NAME or part.filename.isascii():
        return part.filename
    try:
        return part.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return part.filename


def _same(name: str) -> str:
    """A part name as Word compares it: percent-encoding undone, whatever its case."""
    return unquote(name).casefold()


def _dated_or_noted(part: zipfile.ZipInfo) -> bool:
    return part.date_time != ZIP_EPOCH or bool(part.comment) or bool(part.extra)
