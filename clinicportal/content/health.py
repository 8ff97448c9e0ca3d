"""Content's part of the readiness probe: the storage takes a write (checked once a minute)."""

from __future__ import annotations

from clinicportal.content.blobstore import get_blob_store


def storage_check() -> None:
    """Raise unless the content storage can be written to; see LocalBlobStore.check_ready."""
    get_blob_store().check_ready()
