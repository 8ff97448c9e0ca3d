"""Stream uploads straight into the blob store's temporary folder, hashing as they arrive.

No upload is held in memory whole: each chunk is hashed and written as it comes. An upload past
the size limit stops being written; the form then says it is too large. A file the request
never finished (the connection dropped, the body could not be read) is removed when the request
ends, by ``UnfinishedUploadsMiddleware``; one a killed worker left behind, by ``sweep``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from clinicportal.content.blobstore import StoredContent, get_blob_store
from clinicportal.content.sniff import HEAD_BYTES


class HashedUpload(UploadedFile):
    """An uploaded file already on disk, with its hash, size and first bytes known."""

    def __init__(
        self,
        *,
        temp_path: Path,
        name: str,
        size: int,
        sha256: str,
        head: bytes,
        too_large: bool,
        content_type: str | None,
    ) -> None:
        super().__init__(
            temp_path.open("rb"), name=name, content_type=content_type, size=size, charset=None
        )
        self.temp_path = temp_path
        self.sha256 = sha256
        self.head = head
        self.too_large = too_large

    @property
    def content(self) -> StoredContent:
        return StoredContent(self.sha256, self.size or 0)

    def temporary_file_path(self) -> str:
        return str(self.temp_path)

    def close(self) -> None:
        """Close the file and remove the temporary copy unless it was moved into the store."""
        try:
            if self.file is not None:
                self.file.close()
        finally:
            self.temp_path.unlink(missing_ok=True)


class HashingUploadHandler(FileUploadHandler):
    """Write each uploaded file to a private temporary file while hashing it."""

    handle: BinaryIO | None = None  # the file being written, until it is complete

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.limit: int = settings.CLINICPORTAL_UPLOAD_MAX_BYTES
        self.digest = hashlib.sha256()
        self.head = b""
        self.received = 0
        self.too_large = False
        self.handle = get_blob_store().new_temp_file()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        assert self.handle is not None
        self.received += len(raw_data)
        if self.too_large:
            return None
        if self.received > self.limit:
            # Keep reading the request so the browser gets our answer, but store nothing more.
            self.too_large = True
            self.handle.truncate(0)
            return None
        if len(self.head) < HEAD_BYTES:
            self.head += raw_data[: HEAD_BYTES - len(self.head)]
        self.digest.update(raw_data)
        self.handle.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> HashedUpload:
        assert self.handle is not None
        handle, self.handle = self.handle, None  # the HashedUpload removes it from now on
        handle.close()
        return HashedUpload(
            temp_path=Path(handle.name),
            name=self.file_name or "upload",
            size=self.received,
            sha256=self.digest.hexdigest(),
            head=self.head,
            too_large=self.too_large,
            content_type=self.content_type,
        )

    def upload_interrupted(self) -> None:
        self.discard_unfinished()

    def discard_unfinished(self) -> None:
        """Remove the file being written, if the request ended before it was complete."""
        handle, self.handle = self.handle, None
        if handle is None:
            return
        try:
            handle.close()
        except OSError:
            pass  # a full disk cannot take the last buffered bytes: they go with the file
        finally:
            Path(handle.name).unlink(missing_ok=True)
