"""Real faults for uploads: a client that goes away mid-request."""

from __future__ import annotations

import errno
import io
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart


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
