"""Store uploaded or generated content as blobs."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from clinicportal.content.blobstore import StoredContent, get_blob_store
from clinicportal.content.models import Blob, blob_storage_name
from clinicportal.content.sniff import ALLOWED_DESCRIPTION, FileType, sniff
from clinicportal.content.uploads import HashedUpload
from clinicportal.practices.models import Practice

DISPLAY_NAME_MAX = 200


def display_filename(name: str) -> str:
    """Return a user's filename as harmless display text: no folders, no control characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if cleaned in {"", ".", ".."}:
        cleaned = "file"
    return cleaned[:DISPLAY_NAME_MAX]


def upload_validate(upload: HashedUpload) -> FileType:
    """Return the upload's type, or raise ValidationError saying kindly why it is refused."""
    name = display_filename(upload.name or "")
    limit = settings.CLINICPORTAL_UPLOAD_MAX_BYTES
    if upload.too_large:
        raise ValidationError(
            f"“{name}” is larger than the {filesizeformat(limit)} limit. "
            "Please make it smaller (for example, scan at a lower resolution) and try again.",
            code="too_large",
        )
    if not upload.size:
        raise ValidationError(f"“{name}” is empty. Please choose the file again.", code="empty")
    file_type = sniff(upload.head, upload.temp_path)
    if file_type is None:
        raise ValidationError(
            f"“{name}” is not a file type we accept. Please upload a {ALLOWED_DESCRIPTION} file.",
            code="type",
        )
    return file_type


def blob_put_upload(*, practice: Practice, upload: HashedUpload, file_type: FileType) -> Blob:
    """Move a validated upload into the store and return its blob row (new or existing)."""
    blob, _ = Blob.objects.get_or_create(
        practice=practice,
        sha256=upload.sha256,
        defaults={"size": upload.content.size, "content_type": file_type.content_type},
    )
    get_blob_store().commit(
        upload.temp_path, storage_name=blob.storage_name, expected=upload.content
    )
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
