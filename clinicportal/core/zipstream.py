"""Stream a ZIP of stored files without holding it in memory."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

CHUNK = 256 * 1024


class _Sink:
    """A write-only, unseekable file that hands back what was written since the last drain."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        return None

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def zip_stream(entries: Iterable[tuple[str, str]]) -> Iterator[bytes]:
    """Yield a ZIP archive of ``(name in archive, path on disk)`` pairs, chunk by chunk.

    PDFs and images are already compressed, so entries are stored as they are.
    """
    sink = _Sink()
    archive_file: Any = sink  # an unseekable sink: zipfile writes data descriptors
    with zipfile.ZipFile(archive_file, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, path in entries:
            with (
                open(path, "rb") as source,
                archive.open(name, mode="w", force_zip64=True) as target,
            ):
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    yield sink.drain()
            yield sink.drain()
    yield sink.drain()
