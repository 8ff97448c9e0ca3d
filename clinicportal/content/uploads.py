"""Stream uploads straight into the blob store's temporary folder, hashing as they arrive.

No upload is held in memory whole: each chunk is hashed and written as it comes. An upload past
the size limit stops being written; the form then says it is too large. A file the request
never finished (the connection dropped, the body could not be read) is removed when the request
ends, by ``UnfinishedUploadsMiddleware``; one a killed worker left behind, by ``sweep``.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext as _

from clinicportal.content.blobstore import StoredContent, get_blob_store
from clinicportal.content.sniff import HEAD_BYTES

logger = logging.getLogger(__name__)

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


class UploadNotFinished(Exception):
    """The storage could not take an upload (a full disk, a broken folder): nothing was saved.

    Not the uploader's mistake, so not a ValidationError: the form says it above the fields.
    """

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.error = error

    @property
    def storage_full(self) -> bool:
        return self.error.errno in _FULL

    @property
    def message(self) -> str:
        if self.storage_full:
            return _(
                "The upload did not finish: the server’s file storage is full. Nothing was "
                "saved. Try again once whoever looks after the server has made room."
            )
        return _(
            "The upload did not finish: the file could not be written to the server’s file "
            "storage. Nothing was saved. Try again in a minute."
        )


def upload_failed(error: OSError) -> UploadNotFinished:
    """Tell the operator's log why the storage refused an upload; return the error to raise.

    The log names the storage folder and the system's reason, never the file or the patient.
    """
    failure = UploadNotFinished(error)
    folder = get_blob_store().root
    code = errno.errorcode.get(error.errno or 0, "?")
    if failure.storage_full:
        logger.error("Upload not stored: the storage folder %s is full (%s).", folder, code)
    else:
        logger.error(
            "Upload not stored: the storage folder %s could not be written (%s: %s).",
            folder,
            code,
            error.strerror,
        )
    return failure


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
        failure: OSError | None = None,
    ) -> None:
        file = temp_path.open("rb") if failure is None else io.BytesIO()
        super().__init__(file, name=name, content_type=content_type, size=size, charset=None)
        self.temp_path = temp_path
        self.sha256 = sha256
        self.head = head
        self.too_large = too_large
        self.failure = failure  # why the storage could not take it; nothing of it is kept

    @property
    def content(self) -> StoredContent:
        return StoredContent(self.sha256, self.size or 0)

    def replace_content(self, data: bytes) -> None:
        """Make ``data`` the upload's content, in a new temporary file (the old one goes)."""
        handle = get_blob_store().new_temp_file()
        try:
            with handle:
                handle.write(data)
        except OSError:
            Path(handle.name).unlink(missing_ok=True)  # a full disk: nothing of it is kept
            raise
        old, self.temp_path = self.temp_path, Path(handle.name)
        if self.file is not None:
            self.file.close()
        self.file = self.temp_path.open("rb")
        old.unlink(missing_ok=True)
        self.size = len(data)
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.head = data[:HEAD_BYTES]

    def temporary_file_path(self) -> str:
        return str(self.temp_path)

    def close(self) -> None:
        """Close the file and remove the temporary copy unless it was moved into the store."""
        try:
            if self.file is not None:
                self.file.close()
        finally:
            if self.failure is None:
                self.temp_path.unlink(missing_ok=True)


class HashingUploadHandler(FileUploadHandler):
    """Write each uploaded file to a private temporary file while hashing it.

    When the storage cannot take a file (a full disk), what was written goes at once and the
    rest of the request is still read, so that the form comes back with what was typed and
    says the upload did not finish; no later file of the request is written.
    """

    handle: BinaryIO | None = None  # the file being written, until it is complete
    failure: OSError | None = None  # why the storage refused this request's upload

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.limit: int = settings.CLINICPORTAL_UPLOAD_MAX_BYTES
        self.digest = hashlib.sha256()
        self.head = b""
        self.received = 0
        self.too_large = False
        self.temp_path = get_blob_store().tmp_dir / "not-written"
        if self.failure is not None:
            return
        try:
            self.handle = get_blob_store().new_temp_file()
        except OSError as exc:
            self._fail(exc)
        else:
            self.temp_path = Path(self.handle.name)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.too_large or self.handle is None:
            return None
        try:
            if self.received > self.limit:
                # Keep reading the request so the browser gets our answer, but store no more.
                self.too_large = True
                self.handle.truncate(0)
                return None
            if len(self.head) < HEAD_BYTES:
                self.head += raw_data[: HEAD_BYTES - len(self.head)]
            self.digest.update(raw_data)
            self.handle.write(raw_data)
        except OSError as exc:
            self._fail(exc)
        return None

    def file_complete(self, file_size: int) -> HashedUpload:
        handle, self.handle = self.handle, None  # the HashedUpload removes it from now on
        if handle is not None:
            try:
                handle.close()
            except OSError as exc:  # the last buffered bytes did not fit
                self.handle = handle
                self._fail(exc)
        return HashedUpload(
            temp_path=self.temp_path,
            name=self.file_name or "upload",
            size=self.received,
            sha256=self.digest.hexdigest(),
            head=self.head,
            too_large=self.too_large,
            content_type=self.content_type,
            failure=self.failure,
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

    def _fail(self, error: OSError) -> None:
        if self.failure is None:
            upload_failed(error)  # logged once per request
            self.failure = error
        self.discard_unfinished()
