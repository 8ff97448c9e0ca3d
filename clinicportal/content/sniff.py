"""Recognise an upload's type from its content, never from its name.

Only the types a practice needs are allowed: PDF, JPEG, PNG, GIF, TIFF, HEIC, plain text and
DOCX. Anything else is refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 8192


@dataclass(frozen=True)
class FileType:
    content_type: str
    label: str
    inline: bool  # whether browsers show it in a preview


PDF = FileType("application/pdf", "PDF", True)
JPEG = FileType("image/jpeg", "JPEG image", True)
PNG = FileType("image/png", "PNG image", True)
GIF = FileType("image/gif", "GIF image", True)
TIFF = FileType("image/tiff", "TIFF image", False)
HEIC = FileType("image/heic", "HEIC image", False)
TEXT = FileType("text/plain", "Text", True)
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "Word document",
    False,
)

ALLOWED_DESCRIPTION = "PDF, JPEG, PNG, GIF, TIFF, HEIC, plain text or Word (DOCX)"
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_BY_CONTENT_TYPE = {t.content_type: t for t in (PDF, JPEG, PNG, GIF, TIFF, HEIC, TEXT, DOCX)}


def by_content_type(content_type: str) -> FileType | None:
    return _BY_CONTENT_TYPE.get(content_type)


def sniff(head: bytes, path: Path) -> FileType | None:
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
    if _is_text(head):
        return TEXT
    return None


def _is_docx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
    return "[Content_Types].xml" in names and "word/document.xml" in names


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
