"""Stream a ZIP of stored files without holding it in memory."""

from __future__ import annotations

import datetime
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

CHUNK = 256 * 1024


class ZipEntry(NamedTuple):
    name: str  # the name in the archive
    path: str  # the file on disk
    date: datetime.date  # shown as the file's date when the archive is unpacked


def _zip_date_time(date: datetime.date) -> tuple[int, int, int, int, int, int]:
    """Return a date as a ZIP timestamp: noon, so no time zone moves it to another day.

    A ZIP holds the years 1980 to 2107 only; dates outside are brought to the nearest end.
    """
    if date.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    if date.year > 2107:
        return (2107, 12, 31, 12, 0, 0)
    return (date.year, date.month, date.day, 12, 0, 0)


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


def zip_stream(entries: Iterable[ZipEntry]) -> Iterator[bytes]:
    """Yield a ZIP archive of the entries' files, chunk by chunk, each dated as given.

    PDFs and images are already compressed, so entries are stored as they are.
    """
    sink = _Sink()
    archive_file: Any = sink  # an unseekable sink: zipfile writes data descriptors
    with zipfile.ZipFile(archive_file, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=_zip_date_time(entry.date))
            info.compress_type = zipfile.ZIP_STORED
            with (
                open(entry.path, "rb") as source,
                archive.open(info, mode="w", force_zip64=True) as target,
            ):
                while chunk := source.read(CHUNK):
                    target.write(chunk)
                    yield sink.drain()
            yield sink.drain()
    yield sink.drain()
