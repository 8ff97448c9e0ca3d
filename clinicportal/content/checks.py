"""Open an upload before it is accepted: a PDF or picture must open, text must be plain.

``sniff`` only reads the first bytes. Here the whole file is looked at, with bounds, so that a
hostile file cannot hang the server or fill its memory: text is read in pieces; a PDF is read
for its structure and first page only, and refused unread if it has more parts than a reader
should have to go through (pypdf limits what it decompresses); a picture's size is checked from
its header before any of it is decoded (Pillow refuses decompression bombs); a Word document is
unpacked in memory within caps, counting what comes out (``archive``: zip bombs).
"""

from __future__ import annotations

import codecs
import enum
import io
import logging
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_noop
from PIL import Image, ImageFile, TiffImagePlugin
from pypdf import PasswordType, PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

from clinicportal.content import heif, tiff
from clinicportal.content.archive import ArchiveBroken, ArchiveTooLarge, unpack_check
from clinicportal.content.sniff import (
    DOCX,
    GIF,
    HEIC,
    JPEG,
    MARKUP_LOOKBEHIND,
    PDF,
    PNG,
    TIFF,
    FileType,
    markup_kind,
)

log = logging.getLogger(__name__)

TEXT_CHUNK = 1024 * 1024
NOT_TEXT = gettext_noop("a kind of file we don’t accept")
# Pictures are decoded whole only up to this size (GIF and TIFF have no cheaper check); a
# larger one is checked from its header. About 100 MB of memory at most.
DECODE_MAX_PIXELS = 25_000_000
_PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", GIF: "GIF", TIFF: "TIFF"}
PDF_MAX_OBJECTS = 100_000  # a 1,000-page scan has a few thousand
PDF_MAX_TRAILING_LINES = 1000
PDF_MAX_PAGE_TREE_DEPTH = 32
_PDF_OBJECT = re.compile(rb"(?<![0-9])[0-9]+\s+[0-9]+\s+obj\b")
_PDF_XREF_ENTRY = re.compile(rb"(?<![0-9])[0-9]{10} [0-9]{5} [nf]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")  # all but tab, newlines and form feed


class Problem(enum.Enum):
    BROKEN = "broken"  # damaged or incomplete
    LOCKED = "locked"  # a PDF that needs a password to open
    TOO_LARGE = "too_large"  # a picture with more pixels than we open
    TOO_COMPLEX = "too_complex"  # a PDF or Word document with more parts than we read


def text_refusal(path: str | PathLike[str]) -> str | None:
    """Return None if the whole file is plain UTF-8 text; else what it is ("an HTML page").

    Markup anywhere in the file counts, not only in the first bytes ``sniff`` saw.
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    tail = ""
    with open(path, "rb") as source:
        while True:
            chunk = source.read(TEXT_CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError:
                return NOT_TEXT
            if _CONTROL.search(text):
                return NOT_TEXT
            kind = markup_kind(tail + text)
            if kind is not None:
                return kind
            if not chunk:
                return None
            tail = (tail + text)[-MARKUP_LOOKBEHIND:]


def open_problem(path: str | PathLike[str], file_type: FileType) -> Problem | None:
    """Open a PDF, picture or Word document as a reader would; return what stops it, or None.

    Text is left to its own check. A HEIC, which nothing here decodes, is read only as far as
    the size it says its pictures are.
    """
    if file_type is PDF:
        return _pdf_problem(path)
    if file_type is DOCX:
        return _docx_problem(path)
    if file_type is HEIC:
        return _heic_problem(path)
    pillow_format = _PILLOW_FORMATS.get(file_type)
    if pillow_format is not None:
        return _picture_problem(path, pillow_format)
    return None


class _OutOfTime(BaseException):
    """The PDF check's time ran out: a BaseException, for pypdf catches every Exception."""


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    """Interrupt what runs inside after ``seconds`` of wall time, with _OutOfTime. A timer
    signal reaches the main thread only, where gunicorn's sync workers serve each request;
    in another thread (the development server's) nothing is bounded, as before."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _pdf_problem(path: str | PathLike[str]) -> Problem | None:
    """What stops the PDF opening, found within CLINICPORTAL_PDF_CHECK_SECONDS. pypdf follows
    what a file says: a crafted PDF of a few kilobytes (its catalogue packed among thousands
    of objects said to start in a run of spaces, which pypdf skips a byte at a time for each)
    keeps it busy for minutes. Such a PDF is refused as too large to check, and the worker
    goes on."""
    try:
        with _time_limit(settings.CLINICPORTAL_PDF_CHECK_SECONDS):
            return _pdf_opened(path)
    except _OutOfTime:
        log.warning("A PDF took longer to open than CLINICPORTAL_PDF_CHECK_SECONDS: refused.")
        return Problem.TOO_COMPLEX


def _pdf_opened(path: str | PathLike[str]) -> Problem | None:
    data = Path(path).read_bytes()  # pypdf reads it whole too; uploads are size-limited
    end = data.rfind(b"%%EOF")
    if end < 0 or data.count(b"\n", end) + data.count(b"\r", end) > PDF_MAX_TRAILING_LINES:
        return Problem.BROKEN  # no end, or one a reader would hunt for line by line
    # pypdf reads each object of the cross-reference table, or each object in the file when
    # it repairs a broken table: a file with very many would keep it busy for minutes.
    for pattern in (_PDF_OBJECT, _PDF_XREF_ENTRY):
        for number, _ in enumerate(pattern.finditer(data)):
            if number >= PDF_MAX_OBJECTS:
                return Problem.TOO_COMPLEX
    try:
        reader = PdfReader(
            io.BytesIO(data), strict=False, xref_stream_maximum_entries=PDF_MAX_OBJECTS
        )
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            return Problem.LOCKED
        if not _has_a_first_page(reader.root_object):
            return Problem.BROKEN
    except Exception:  # pypdf raises many kinds for a damaged file; all mean the same here
        return Problem.BROKEN
    return None


def _docx_problem(path: str | PathLike[str]) -> Problem | None:
    try:
        unpack_check(path)
    except ArchiveTooLarge:
        return Problem.TOO_COMPLEX
    except ArchiveBroken:
        return Problem.BROKEN
    return None


def _pixels_max() -> int:
    """The most pixels a picture may have: Pillow's own bound on what it opens."""
    return Image.MAX_IMAGE_PIXELS or DECODE_MAX_PIXELS


def _later_pages_problem(picture: TiffImagePlugin.TiffImageFile) -> Problem | None:
    """Check a TIFF's pages after the first, each from its directory as the first was, within
    the bounds content.tiff reads a scan's directories in."""
    entries, page = len(picture.tag_v2), 0
    while True:
        page += 1
        try:
            picture.seek(page)
        except EOFError:
            return None
        entries += len(picture.tag_v2)
        if page >= tiff.MAX_DIRECTORIES or entries > tiff.MAX_ENTRIES:
            return Problem.BROKEN  # content.tiff would not follow it either
        if picture.width * picture.height > _pixels_max():
            return Problem.TOO_LARGE


def _heic_problem(path: str | PathLike[str]) -> Problem | None:
    try:
        pixels = heif.heif_pixels(Path(path).read_bytes())
    except heif.Malformed:
        return Problem.BROKEN
    return Problem.TOO_LARGE if pixels > _pixels_max() else None


def _has_a_first_page(root: DictionaryObject) -> bool:
    """Walk down the page tree to the first page, without reading every page."""
    node = root["/Pages"].get_object()
    for _ in range(PDF_MAX_PAGE_TREE_DEPTH):
        if not isinstance(node, DictionaryObject):
            return False
        if "/Kids" not in node:
            return node.get("/Type") == "/Page"
        kids = node["/Kids"].get_object()
        if not isinstance(kids, ArrayObject) or not kids:
            return False
        node = kids[0].get_object()
    return False


def _picture_problem(path: str | PathLike[str], pillow_format: str) -> Problem | None:
    # Pillow's "load truncated images" is one switch for the whole process, and importing
    # WeasyPrint turns it on: after a worker has printed a PDF, a cut-off JPEG or PNG would
    # load as whole. The check decides for itself, and puts the switch back as it was.
    lenient = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        return _picture_checked(path, pillow_format)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient


def _picture_checked(path: str | PathLike[str], pillow_format: str) -> Problem | None:
    try:
        with Image.open(path, formats=[pillow_format]) as picture:
            pixels = picture.width * picture.height
            if pixels > _pixels_max():
                return Problem.TOO_LARGE
            if pillow_format == "PNG":
                picture.verify()  # every chunk's checksum, without inflating the pixels
            elif pillow_format == "JPEG":
                picture.draft(None, (1, 1))  # decode at an eighth of the size: cheap, complete
                picture.load()
            elif pixels <= DECODE_MAX_PIXELS:
                picture.load()  # the first frame
            if isinstance(picture, TiffImagePlugin.TiffImageFile):
                return _later_pages_problem(picture)
    except Image.DecompressionBombError:
        return Problem.TOO_LARGE
    except Exception:  # Pillow raises many kinds for a damaged file; all mean the same here
        return Problem.BROKEN
    return None
