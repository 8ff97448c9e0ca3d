"""Real faults for uploads: a disk that fills up, a client that goes away mid-request.

``FullDisk`` is the real blob store on the real disk, except that the disk has only ``room``
bytes left: the bytes that fit are written, and the write that does not fit fails with
OSError(ENOSPC) as the kernel's would. ``full_disk`` makes the site use it (every caller asks
``get_blob_store``, which asks ``_store_for``).
"""

from __future__ import annotations

import errno
import io
import os
import re
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from django.conf import settings
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from clinicportal.content import blobstore
from clinicportal.content.blobstore import LocalBlobStore


class FullDisk(LocalBlobStore):
    def __init__(self, root: Path, room: int) -> None:
        super().__init__(root)
        self.room = room

    def new_temp_file(self) -> BinaryIO:
        return _FillingFile(super().new_temp_file(), self)  # type: ignore[return-value]


class _FillingFile:
    """A real temporary file on a disk with ``disk.room`` bytes left."""

    def __init__(self, handle: BinaryIO, disk: FullDisk) -> None:
        self._handle = handle
        self._disk = disk

    def write(self, data: bytes) -> int:
        fits = min(len(data), self._disk.room)
        self._handle.write(data[:fits])
        self._handle.flush()
        self._disk.room -= fits
        if fits < len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return fits

    def __enter__(self) -> _FillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def full_disk(monkeypatch: pytest.MonkeyPatch, room: int) -> FullDisk:
    """Make the storage folder a disk with ``room`` bytes left."""
    disk = FullDisk(Path(settings.CLINICPORTAL_STORAGE_DIR), room)
    monkeypatch.setattr(blobstore, "_store_for", lambda root: disk)
    return disk


class CutOffBody:
    """A request body whose sender goes away after ``cut`` bytes (the read fails, as a reset
    connection's does)."""

    def __init__(self, body: bytes, cut: int) -> None:
        self._body = io.BytesIO(body[:cut])

    def read(self, size: int = -1) -> bytes:
        data = self._body.read(size)
        if not data:
            raise OSError(errno.ECONNRESET, "Connection reset by peer")
        return data

    def readline(self, size: int = -1) -> bytes:
        return self._body.readline(size)


def left_in_tmp() -> list[Path]:
    tmp = Path(settings.CLINICPORTAL_STORAGE_DIR) / "tmp"
    return sorted(tmp.iterdir()) if tmp.exists() else []


def csrf_token(client: Client, url: str) -> str:
    """Open the form page as a browser would and return the form's CSRF token."""
    html = client.get(url).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the form has no CSRF token"
    return match.group(1)


def cut_off_post(client: Client, url: str, data: dict[str, Any], cut: int) -> Any:
    """Post ``data`` as multipart, the connection dropping after ``cut`` bytes of the body."""
    body = encode_multipart(BOUNDARY, data)
    assert cut < len(body)
    environ: dict[str, Any] = {
        "wsgi.input": CutOffBody(body, cut),
        "CONTENT_LENGTH": str(len(body)),
    }
    return client.generic(
        "POST",
        url,
        data=body,
        content_type=MULTIPART_CONTENT,
        **environ,
    )
