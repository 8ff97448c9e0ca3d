"""Content-addressed storage for uploaded files.

Content is written to a temporary file next to its final place, fsynced, renamed to a name made
of its SHA-256, and read back to check the hash before any row points at it. Names chosen by
users never reach the file system.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from time import monotonic
from typing import BinaryIO

from django.conf import settings

CHUNK = 1024 * 1024
# The readiness probe writes a file at most this often per process; between, it only looks.
READY_WRITE_SECONDS = 60


class ContentCorrupted(Exception):
    """Stored bytes do not match the hash they were stored under."""


@dataclass(frozen=True)
class StoredContent:
    sha256: str
    size: int


def hash_file(path: Path) -> StoredContent:
    """Return the SHA-256 and size of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return StoredContent(digest.hexdigest(), size)


class LocalBlobStore:
    """Blobs in a local folder (outside the web root): ``blobs/<practice>/<ab>/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp_dir = root / "tmp"
        self._written_at: float | None = None  # when check_ready last wrote, if it worked

    def path(self, storage_name: str) -> Path:
        return self.root / storage_name

    def new_temp_file(self) -> BinaryIO:
        """Open a new private temporary file on the same file system as the blobs."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        path = self.tmp_dir / f"upload-{secrets.token_hex(16)}"
        return open(path, "xb", opener=_private)

    def commit(self, temp_path: Path, *, storage_name: str, expected: StoredContent) -> None:
        """Move a finished temporary file to ``storage_name`` durably, then verify it.

        If identical content is already stored, the temporary file is dropped instead, and the
        stored file's time is made now: the sweep removes a file no row names only once it is
        an hour old, and the row that will name this one is not committed yet.
        """
        final = self.path(storage_name)
        if _reuse(final, expected.size):
            temp_path.unlink(missing_ok=True)
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(temp_path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp_path, final)
            _fsync_dir(final.parent)
        self.verify(storage_name, expected)

    def put_bytes(self, data: bytes, *, name_for: Callable[[str], str]) -> StoredContent:
        """Store ``data`` under the name ``name_for`` gives its SHA-256."""
        content = StoredContent(hashlib.sha256(data).hexdigest(), len(data))
        with self.new_temp_file() as handle:
            handle.write(data)
            temp_path = Path(handle.name)
        self.commit(temp_path, storage_name=name_for(content.sha256), expected=content)
        return content

    def verify(self, storage_name: str, expected: StoredContent) -> None:
        """Raise ContentCorrupted unless the stored file has the expected size and hash."""
        path = self.path(storage_name)
        try:
            found = hash_file(path)
        except FileNotFoundError:
            raise ContentCorrupted(f"{storage_name} is missing") from None
        if found != expected:
            raise ContentCorrupted(f"{storage_name} does not match its hash")

    def size_matches(self, storage_name: str, size: int) -> bool:
        try:
            return self.path(storage_name).stat().st_size == size
        except FileNotFoundError:
            return False

    def delete(self, storage_name: str) -> None:
        self.path(storage_name).unlink(missing_ok=True)

    def walk(self) -> Iterator[str]:
        """Yield the storage name of every stored blob file."""
        blobs = self.root / "blobs"
        if not blobs.exists():
            return
        for path in blobs.rglob("*"):
            if path.is_file():
                yield path.relative_to(self.root).as_posix()

    def temp_files(self) -> Iterator[Path]:
        """Yield every file in the temporary folder: uploads under way, or left unfinished."""
        if not self.tmp_dir.exists():
            return
        for path in self.tmp_dir.iterdir():
            if path.is_file():
                yield path

    def check_writable(self) -> None:
        """Raise OSError unless a file can be created and removed in the store.

        The file goes even when writing it fails (a full disk), so each failed check does not
        leave one more behind.
        """
        handle = self.new_temp_file()
        try:
            with handle:
                handle.write(b"ready")
        finally:
            Path(handle.name).unlink(missing_ok=True)

    def check_ready(self) -> None:
        """Raise OSError unless the store looks ready, writing a file at most once a minute.

        The readiness probe is anonymous and may be asked many times a second: each answer
        must not write to the disk. So a file is written (check_writable) on the first check
        and then once a minute at most; between, the folder is only looked at: it is there,
        it may be written to, and its disk has room. A failed write is tried again next time.
        """
        now = monotonic()
        if self._written_at is None or now - self._written_at >= READY_WRITE_SECONDS:
            self.check_writable()
            self._written_at = now
            return
        if not self.tmp_dir.is_dir():
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(self.tmp_dir))
        if not os.access(self.tmp_dir, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self.tmp_dir))
        if os.statvfs(self.tmp_dir).f_bavail == 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.tmp_dir))


def _reuse(final: Path, size: int) -> bool:
    """Say whether content of this size is stored at ``final``; if so, make its time now."""
    try:
        if final.stat().st_size != size:
            return False
        os.utime(final)
    except FileNotFoundError:  # never stored, or swept a moment ago: store it again
        return False
    return True


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@cache
def _store_for(root: str) -> LocalBlobStore:
    return LocalBlobStore(Path(root))


def get_blob_store() -> LocalBlobStore:
    """Return the blob store for the configured storage folder."""
    return _store_for(str(settings.CLINICPORTAL_STORAGE_DIR))
