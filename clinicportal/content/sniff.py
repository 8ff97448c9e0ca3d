"""Recognise an upload's type from its content, never from its name.

Only the types a practice needs are allowed: PDF, JPEG, PNG, GIF, TIFF, HEIC, plain text and
DOCX. Anything else is refused, and markup (HTML, SVG, XML, PHP) is never taken for plain text.
The name only has to agree with the content: see ``name_extension``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from os import PathLike
from pathlib import PurePosixPath

from django.utils.translation import gettext_noop

from clinicportal.content.archive import entry_names

HEAD_BYTES = 8192


@dataclass(frozen=True)
class FileType:
    content_type: str
    label: str  # what patients are told it is: "JPEG image" (translated where used)
    inline: bool  # whether browsers show it in a preview
    extensions: tuple[str, ...]  # names it may have, lower case; the first is the usual one
    noun: str  # what it is, for messages: "a PDF" (translated where used)
    upload_noun: str  # what to upload instead: "the PDF" (translated where used)
    is_picture: bool = False

    @property
    def extension(self) -> str:
        return self.extensions[0]


PDF = FileType(
    "application/pdf",
    gettext_noop("PDF"),
    True,
    ("pdf",),
    gettext_noop("a PDF"),
    gettext_noop("the PDF"),
)
JPEG = FileType(
    "image/jpeg",
    gettext_noop("JPEG image"),
    True,
    ("jpg", "jpeg", "jpe", "jfif"),
    gettext_noop("a JPEG image"),
    gettext_noop("the JPEG image"),
    is_picture=True,
)
PNG = FileType(
    "image/png",
    gettext_noop("PNG image"),
    True,
    ("png",),
    gettext_noop("a PNG image"),
    gettext_noop("the PNG image"),
    is_picture=True,
)
GIF = FileType(
    "image/gif",
    gettext_noop("GIF image"),
    True,
    ("gif",),
    gettext_noop("a GIF image"),
    gettext_noop("the GIF image"),
    is_picture=True,
)
TIFF = FileType(
    "image/tiff",
    gettext_noop("TIFF image"),
    False,
    ("tif", "tiff"),
    gettext_noop("a TIFF image"),
    gettext_noop("the TIFF image"),
    is_picture=True,
)
HEIC = FileType(
    "image/heic",
    gettext_noop("HEIC image"),
    False,
    ("heic", "heif"),
    gettext_noop("a HEIC image"),
    gettext_noop("the HEIC image"),
    is_picture=True,
)
TEXT = FileType(
    "text/plain",
    gettext_noop("Text"),
    True,
    ("txt", "text", "csv", "log", "md"),
    gettext_noop("text"),
    gettext_noop("the text file"),
)
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    gettext_noop("Word document"),
    False,
    ("docx",),
    gettext_noop("a Word document"),
    gettext_noop("the Word document"),
)

# Translated where used.
ALLOWED_DESCRIPTION = gettext_noop("PDF, JPEG, PNG, GIF, TIFF, HEIC, plain text or Word (DOCX)")
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_ALLOWED = (PDF, JPEG, PNG, GIF, TIFF, HEIC, TEXT, DOCX)
_BY_CONTENT_TYPE = {t.content_type: t for t in _ALLOWED}
_BY_EXTENSION = {extension: t for t in _ALLOWED for extension in t.extensions}
# Names that promise active content (a page, a script): refused whatever the content is.
REFUSED_EXTENSIONS = frozenset(
    {"htm", "html", "xhtml", "xht", "shtml", "svg", "svgz", "xml", "xsl", "php", "phtml"}
    | {"js", "mjs", "hta"}
)
# Names of programs and scripts. A file of a type we accept named so loses that ending for its
# own: "scan.exe" that is a PDF is kept as "scan.pdf", not "scan.exe.pdf", which shows as
# "scan.exe" where a computer hides endings, and which mail filters take for a disguise.
PROGRAM_EXTENSIONS = frozenset(
    {"exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "dll", "cpl", "lnk", "reg"}
    | {"jar", "ps1", "psm1", "vbs", "vbe", "jse", "wsf", "wsh", "sh", "app", "apk", "dmg"}
)
_EXTENSION = re.compile(r"[a-z0-9]{1,5}")


def by_content_type(content_type: str) -> FileType | None:
    return _BY_CONTENT_TYPE.get(content_type)


def by_extension(extension: str) -> FileType | None:
    return _BY_EXTENSION.get(extension)


def name_extension(name: str) -> str:
    """Return the type a file's name claims, lower case ("pdf"), or "" if it claims none.

    Only a short ending with a letter counts: "Notes 2026.11.20" has none, "Dr.Jones" has
    "jones" (a type nobody knows, so the content's own is added to it).
    """
    stem, dot, ending = PurePosixPath(name).name.rpartition(".")
    ending = ending.lower()
    if not (stem and dot) or not _EXTENSION.fullmatch(ending) or ending.isdigit():
        return ""
    return ending


def sniff(head: bytes, path: str | PathLike[str]) -> FileType | None:
    """Return the allowed type of the file whose first bytes are ``head``, or None if refused."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return HEIC
    if head.startswith(b"PK\x03\x04"):
        return DOCX if _is_docx(path) else None
    if _is_text(head) and markup_kind(head.decode("utf-8", errors="ignore")) is None:
        return TEXT
    return None


def describe(head: bytes) -> str | None:
    """Say what a refused file is ("an HTML page"), if it is something people would know."""
    if head.startswith(b"MZ"):
        return gettext_noop("a Windows program")
    if head.startswith((b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")):
        return gettext_noop("a program")
    if head.startswith(b"PK\x03\x04"):
        return gettext_noop("a ZIP archive")
    if _is_text(head):
        return markup_kind(head.decode("utf-8", errors="ignore"))
    return None


# Markup: a PHP or XML processing instruction, a doctype, comment or CDATA section, a known
# element that runs or shows things even unclosed, or any whole tag such as <b> or </p>.
# "BP <140", "x < y", "<ada@example.com>" and "<https://example.org>" are not markup.
# The patterns are matched against lower-cased text: faster than ignoring case.
_PHP = re.compile(r"<\?(?:php|=)")
_SVG = re.compile(r"<svg[\s/>]")
_HTML = re.compile(
    r"<(?=[!a-z])(?:!doctype\s+html|a\s+href|(?:html|head|body|script|iframe|frame|frameset"
    r"|object|embed|applet|img|image|video|audio|source|meta|link|base|style|form|input"
    r"|button|math|template)[\s/>])"
)
_XML = re.compile(r"<\?xml[\s?]")
_ANY_TAG = re.compile(r"<\?[a-z]|<![a-z\-\[]|</?[a-z][a-z0-9-]*(?:\s[^<>]{0,4000})?/?>")
MARKUP_LOOKBEHIND = 4096  # characters a tag may straddle when text is read in pieces


def markup_kind(text: str) -> str | None:
    """Return what markup the text holds ("an HTML page"), or None if it holds none."""
    text = text.lower()
    if _PHP.search(text):
        return gettext_noop("a PHP script")
    if _SVG.search(text):
        return gettext_noop("an SVG image")
    if _HTML.search(text):
        return gettext_noop("an HTML page")
    if _XML.search(text):
        return gettext_noop("an XML file")
    if _ANY_TAG.search(text):
        return gettext_noop("HTML or XML markup")
    return None


def _is_docx(path: str | PathLike[str]) -> bool:
    names = entry_names(path)  # None for an archive too large to list: see ``archive``
    return names is not None and "[Content_Types].xml" in names and "word/document.xml" in names


def _is_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may end inside a multi-byte character.
        if exc.start < len(head) - 4:
            return False
        text = head[: exc.start].decode("utf-8")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    return controls == 0
