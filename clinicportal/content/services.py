"""Store uploaded or generated content as blobs."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from clinicportal.content.antivirus import (
    ScannerUnavailable,
    TooLargeToScan,
    scan_file,
    scanning_on,
)
from clinicportal.content.archive import ZIP_MAX_ENTRIES, ZIP_MAX_UNPACKED_BYTES
from clinicportal.content.blobstore import StoredContent, get_blob_store
from clinicportal.content.checks import NOT_TEXT, Problem, open_problem, text_refusal
from clinicportal.content.metadata import Unreadable, without_metadata
from clinicportal.content.models import Blob, blob_storage_name
from clinicportal.content.sniff import (
    ALLOWED_DESCRIPTION,
    DOCX,
    GIF,
    HEIC,
    JPEG,
    PNG,
    PROGRAM_EXTENSIONS,
    REFUSED_EXTENSIONS,
    TEXT,
    TIFF,
    FileType,
    by_extension,
    describe,
    name_extension,
    sniff,
)
from clinicportal.content.uploads import HashedUpload, UploadNotFinished, upload_failed
from clinicportal.practices.models import Practice

log = logging.getLogger(__name__)

DISPLAY_NAME_MAX = 200


def display_filename(name: str) -> str:
    """Return a user's filename as harmless display text: no folders, no control characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if cleaned in {"", ".", ".."}:
        cleaned = "file"
    return cleaned[:DISPLAY_NAME_MAX]


@dataclass(frozen=True)
class CheckedUpload:
    """What an accepted upload is, and the name to show it under."""

    file_type: FileType
    filename: str  # display text, ending in a name that agrees with the content


def upload_validate(upload: HashedUpload) -> CheckedUpload:
    """Return what the upload is, or raise ValidationError saying kindly why it is refused.

    The content decides the type; the name must agree with it. A PDF or picture must open. A
    photo's metadata is taken out (the upload's content changes). Raises UploadNotFinished
    instead if the storage could not take the upload.
    """
    if upload.failure is not None:
        raise UploadNotFinished(upload.failure)
    name = display_filename(upload.name or "")
    limit = settings.CLINICPORTAL_UPLOAD_MAX_BYTES
    if upload.too_large:
        raise ValidationError(
            _(
                "“%(name)s” is larger than the %(limit)s limit. "
                "Please make it smaller (for example, scan at a lower resolution) and try again."
            )
            % {"name": name, "limit": filesizeformat(limit)},
            code="too_large",
        )
    if not upload.size:
        raise ValidationError(
            _("“%(name)s” is empty. Please choose the file again.") % {"name": name}, code="empty"
        )
    file_type = sniff(upload.head, upload.temp_path)
    what = describe(upload.head) if file_type is None else None
    if file_type is TEXT:
        what = text_refusal(upload.temp_path)
        if what is not None:
            file_type = None
    extension = name_extension(name)
    if file_type is None:
        raise _refused(name, extension, what)
    filename = _agreeing_name(name, extension, file_type)
    problem = open_problem(upload.temp_path, file_type)
    if problem is not None:
        raise _unopenable(name, file_type, problem)
    _strip_metadata(upload, name, file_type)
    if scanning_on():
        _scanned(upload, name)
    return CheckedUpload(file_type=file_type, filename=filename)


def _strip_metadata(upload: HashedUpload, name: str, file_type: FileType) -> None:
    """Keep a photo, a scan or a Word document without where it was taken and the rest of its
    metadata (see content.metadata and content.docx). One whose layout cannot be followed is
    refused as damaged, rather than kept with what it carries; so is one that would not open
    once rewritten."""
    if file_type not in (JPEG, PNG, GIF, HEIC, TIFF, DOCX):
        return
    try:
        stripped = without_metadata(upload.temp_path.read_bytes(), file_type)
    except Unreadable:
        raise _unopenable(name, file_type, Problem.BROKEN) from None
    if stripped is None:
        return
    try:
        upload.replace_content(stripped)
    except OSError as exc:
        raise upload_failed(exc) from exc
    problem = open_problem(upload.temp_path, file_type)
    if problem is not None:
        log.error("A file would not open without its metadata: %s", problem.value)
        raise _unopenable(name, file_type, problem)


def _scanned(upload: HashedUpload, name: str) -> None:
    """Refuse an upload the virus scanner finds something in, or cannot scan."""
    try:
        found = scan_file(upload.temp_path)
    except ScannerUnavailable as exc:
        if isinstance(exc, TooLargeToScan):  # trying again would not help
            log.error("An upload was refused: larger than the virus scanner takes: %s", exc)
            message = _(
                "“%(name)s” is larger than the virus scanner can check, so it was not kept. "
                "Please send a smaller file."
            )
        else:
            log.error("An upload was refused: the virus scanner could not scan it: %s", exc)
            message = _(
                "“%(name)s” could not be checked for viruses just now, so it was not kept. "
                "Please try again in a few minutes."
            )
        raise ValidationError(message % {"name": name}, code="unscanned") from None
    if found is not None:
        log.warning("An upload was refused: the virus scanner found %s in it.", found)
        raise ValidationError(
            _(
                "“%(name)s” was refused: the virus scanner found something harmful in it "
                "(%(found)s). Nothing of it was kept."
            )
            % {"name": name, "found": found},
            code="infected",
        )


def _refused(name: str, extension: str, what: str | None) -> ValidationError:
    claimed = by_extension(extension)
    values = {"name": name, "extension": extension, "allowed": _(ALLOWED_DESCRIPTION)}
    # gettext("") would return the catalogue's header, so `what` is translated only when known.
    if claimed is not None and what is not None and what != NOT_TEXT:
        message = _(
            "“%(name)s” is named .%(extension)s but it is %(what)s, not a file type we accept. "
            "Please upload %(expected)s itself."
        ) % {**values, "what": _(what), "expected": _(claimed.upload_noun)}
    elif claimed is not None:
        message = _(
            "“%(name)s” is named .%(extension)s but it is not a file type we accept. "
            "Please upload %(expected)s itself."
        ) % {**values, "expected": _(claimed.upload_noun)}
    elif what is not None and what != NOT_TEXT:
        message = _(
            "“%(name)s” is %(what)s: not a file type we accept. Please upload a %(allowed)s file."
        ) % {**values, "what": _(what)}
    else:
        message = (
            _("“%(name)s” is not a file type we accept. Please upload a %(allowed)s file.") % values
        )
    return ValidationError(message, code="type")


def _agreeing_name(name: str, extension: str, file_type: FileType) -> str:
    """Return the name to keep for an upload of this type, or refuse a name that misleads.

    A name that claims another type we know is refused, except between pictures (phones and
    scanners often call a PNG ".jpg"): there the ending is corrected, as is a program's
    (".exe"). A name that claims no type we know gets the content's ending added, so a
    download opens in the right program and is stored and served under it.
    """
    if extension in file_type.extensions:
        return name
    claimed = by_extension(extension)
    if extension in REFUSED_EXTENSIONS:
        raise ValidationError(
            _(
                "“%(name)s” is named .%(extension)s, a type we don’t accept. "
                "Please upload a %(allowed)s file."
            )
            % {"name": name, "extension": extension, "allowed": _(ALLOWED_DESCRIPTION)},
            code="type",
        )
    if claimed is not None and not (claimed.is_picture and file_type.is_picture):
        raise ValidationError(
            _(
                "“%(name)s” is named .%(extension)s but it is %(what)s. Please upload "
                "%(expected)s itself, or rename the file to end in .%(actual)s."
            )
            % {
                "name": name,
                "extension": extension,
                "what": _(file_type.noun),
                "expected": _(claimed.upload_noun),
                "actual": file_type.extension,
            },
            code="type",
        )
    replaced = claimed is not None or extension in PROGRAM_EXTENSIONS
    stem = name[: -len(extension) - 1] if replaced else name
    return display_filename(f"{stem[: DISPLAY_NAME_MAX - 6]}.{file_type.extension}")


def _unopenable(name: str, file_type: FileType, problem: Problem) -> ValidationError:
    if problem is Problem.LOCKED:
        message = _(
            "“%(name)s” is protected by a password, so patients could not open it. "
            "Please upload a copy without a password."
        ) % {"name": name}
    elif problem is Problem.TOO_COMPLEX and file_type is DOCX:
        message = _(
            "“%(name)s” is a Word document too large to check: it unpacks to more than "
            "%(limit)s or holds more than %(parts)s parts. "
            "Please save it as a smaller document (for example, in parts) and upload that."
        ) % {
            "name": name,
            "limit": filesizeformat(ZIP_MAX_UNPACKED_BYTES),
            "parts": number_format(ZIP_MAX_ENTRIES, force_grouping=True),
        }
    elif problem is Problem.TOO_COMPLEX:
        message = _(
            "“%(name)s” is a PDF too large to check. "
            "Please save it as a smaller PDF (for example, in parts) and upload that."
        ) % {"name": name}
    elif problem is Problem.TOO_LARGE:
        message = _(
            "“%(name)s” is a picture too large to open. "
            "Please save it at a smaller size and upload it again."
        ) % {"name": name}
    else:
        message = _(
            "“%(name)s” is %(what)s that cannot be opened: it may be damaged or incomplete. "
            "Please save or scan it again and upload the new copy."
        ) % {"name": name, "what": _(file_type.noun)}
    return ValidationError(message, code="damaged")


def uploads_validate(uploads: Sequence[HashedUpload]) -> list[tuple[HashedUpload, CheckedUpload]]:
    """Check each upload (``upload_validate``); refuse them all, saying why for each, if any is."""
    accepted: list[tuple[HashedUpload, CheckedUpload]] = []
    errors: list[ValidationError] = []
    for upload in uploads:
        try:
            accepted.append((upload, upload_validate(upload)))
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors)
    return accepted


def blob_put_upload(*, practice: Practice, upload: HashedUpload, file_type: FileType) -> Blob:
    """Move a validated upload into the store and return its blob row (new or existing).

    Raises UploadNotFinished if the storage cannot take it; call it inside the transaction
    that records the upload, so that nothing is recorded then.
    """
    blob, _ = Blob.objects.get_or_create(
        practice=practice,
        sha256=upload.sha256,
        defaults={"size": upload.content.size, "content_type": file_type.content_type},
    )
    try:
        get_blob_store().commit(
            upload.temp_path, storage_name=blob.storage_name, expected=upload.content
        )
    except OSError as exc:
        raise upload_failed(exc) from exc
    return blob


def blob_put_bytes(*, practice: Practice, data: bytes, content_type: str) -> Blob:
    """Store generated content (demo files, later rendered PDFs) and return its blob row."""
    content = get_blob_store().put_bytes(
        data, name_for=lambda sha256: blob_storage_name(practice.pk, sha256)
    )
    blob, _ = Blob.objects.get_or_create(
        practice=practice,
        sha256=content.sha256,
        defaults={"size": content.size, "content_type": content_type},
    )
    return blob


def blob_release(blob: Blob) -> bool:
    """Delete stored content that nothing refers to any more; return whether it was deleted.

    Call inside the transaction that dropped the last reference; the file goes on commit.
    """
    for relation in Blob._meta.related_objects:
        if relation.related_model._default_manager.filter(**{relation.field.name: blob}).exists():
            return False
    storage_name = blob.storage_name
    blob.delete()
    transaction.on_commit(lambda: get_blob_store().delete(storage_name))
    return True


def blob_servable_path(blob: Blob) -> str:
    """Return the path of a blob's stored file, ready to stream.

    Raises FileNotFoundError when the file is missing or not the recorded size, so damaged
    content is never served as if whole (scrub re-hashes it all on a schedule).
    """
    store = get_blob_store()
    if not store.size_matches(blob.storage_name, blob.size):
        raise FileNotFoundError(blob.storage_name)
    return str(store.path(blob.storage_name))


def blob_content(blob: Blob) -> StoredContent:
    return StoredContent(blob.sha256, blob.size)
