"""Read the API's multipart bodies so that a ``file`` part sent without a filename is the file.

Django reads a part without a filename as a text field: it decodes the bytes (a PDF does not
survive that) and keeps them in memory, so the form would say the file is missing. Print drivers
and ``curl -F 'file=<scan.pdf'`` send such parts, and the OpenAPI document does not ask for a
filename. So before Django parses the body, such a part's headers are given one. Nothing relies
on the name: the upload checks look at the content, and names are never used as paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from django.http.multipartparser import MultiPartParser
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _

FILE_FIELD = "file"
CHUNK_BYTES = 64 * 1024
HEADERS_MAX_BYTES = 8 * 1024  # Django refuses part headers past 1 KiB anyway


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def default_filename() -> str:
    # Translators: the name given to a printed PDF that arrives without one. Keep ".pdf".
    return _("document.pdf")


class FilePartParser(MultiPartParser):
    """Django's parser, reading the body through ``NamedFileParts``."""

    def __init__(self, META: Any, input_data: Readable, *args: Any, **kwargs: Any) -> None:
        # Django checks the boundary before anything is read (and refuses a malformed one).
        _, options = parse_header_parameters(META.get("CONTENT_TYPE", ""))
        boundary = options.get("boundary", "").encode("ascii", "replace")
        body: Any = NamedFileParts(input_data, boundary)  # reads like the request it wraps
        super().__init__(META, body, *args, **kwargs)

    def sanitize_file_name(self, file_name: str) -> str | None:
        """Keep a name that is only a folder ("/", "..") from dropping the file."""
        return super().sanitize_file_name(file_name) or default_filename()


class NamedFileParts:
    """A multipart body, read as sent except that a nameless file part gets a filename."""

    def __init__(self, stream: Readable, boundary: bytes) -> None:
        chunks = iter(lambda: stream.read(CHUNK_BYTES), b"")
        self._chunks = _named(chunks, b"--" + boundary)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _named(chunks: Iterator[bytes], delimiter: bytes) -> Iterator[bytes]:
    """Pass the chunks on, rewriting the headers of each part that follow a delimiter.

    Like Django's parser, a delimiter is found anywhere (a body cannot contain it), and a part's
    headers end at the first blank line after it.
    """
    pending = b""
    for chunk in chunks:
        pending += chunk
        while True:
            start = pending.find(delimiter)
            if start == -1:
                # Keep back what could be the beginning of a delimiter cut by the chunk.
                cut = max(0, len(pending) - len(delimiter) + 1)
                yield pending[:cut]
                pending = pending[cut:]
                break
            after = start + len(delimiter)
            end = pending.find(b"\r\n\r\n", after)
            if end == -1 and len(pending) - start < HEADERS_MAX_BYTES:
                yield pending[:start]  # wait for the rest of the headers
                pending = pending[start:]
                break
            following = pending.find(delimiter, after)
            if end == -1 or -1 < following < end:  # no headers to look at: pass it on
                yield pending[:after]
                pending = pending[after:]
                continue
            yield pending[:start] + _with_filename(pending[start:end])
            pending = pending[end:]
    yield pending


def _with_filename(head: bytes) -> bytes:
    """Add a filename to a ``file`` part's Content-Disposition that has none (or an empty one)."""
    lines = head.split(b"\r\n")
    for number, line in enumerate(lines):
        try:
            name, value = line.decode().split(":", 1)
            if name.strip().lower() != "content-disposition":
                continue
            _kind, params = parse_header_parameters(value.strip())
        except (UnicodeDecodeError, ValueError):  # a header Django skips too
            continue
        if params.get("name", "").strip() == FILE_FIELD and not params.get("filename"):
            filename = default_filename().replace('"', "'").replace("\\", "")
            lines[number] = line + f'; filename="{filename}"'.encode()
    return b"\r\n".join(lines)
