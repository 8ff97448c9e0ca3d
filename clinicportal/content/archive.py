"""Look inside a ZIP archive (a Word document is one) without trusting what it says of itself.

A ZIP's central directory says how many parts it holds and how large each unpacks; a zip bomb
says whatever it likes there. So the directory's own size is bounded before Python reads it
(a directory of a million parts would fill the memory), the caps are checked against what it
says, and then every part is unpacked in pieces, counting the bytes that really come out: a
part that unpacks to more than it declared is refused there, so no more than the declared
total is ever unpacked. Nothing is written anywhere; names inside the archive are never paths.

The caps leave real documents plenty of room: a long report with pictures has a few hundred
parts and unpacks to tens of megabytes.
"""

from __future__ import annotations

import copy
import zipfile
from os import PathLike

ZIP_MAX_ENTRIES = 1000
ZIP_MAX_UNPACKED_BYTES = 100 * 1024 * 1024
# Bytes of central directory read at most: 1,000 parts with long names take about 300 KB.
ZIP_MAX_DIRECTORY_BYTES = 1024 * 1024
_CHUNK = 64 * 1024
_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})  # all Office writes


class ArchiveTooLarge(Exception):
    """The archive has more parts, or unpacks to more, than we check."""


class ArchiveBroken(Exception):
    """The archive cannot be read whole: damaged, encrypted, or its headers lie."""


def directory_readable(path: str | PathLike[str]) -> bool:
    """Say whether the archive's central directory is small enough to read, unread.

    This reads only the end record, the same one ``zipfile`` goes by, so what it checks is
    what ``zipfile`` would read. False also for a file that is no ZIP at all.
    """
    try:
        with open(path, "rb") as handle:
            end = zipfile._EndRecData(handle)  # type: ignore[attr-defined]
    except OSError:
        return False
    if end is None:
        return False
    # Only the size counts here: the number of parts is checked once they are listed, and the
    # end record may lie about it.
    return bool(end[zipfile._ECD_SIZE] <= ZIP_MAX_DIRECTORY_BYTES)  # type: ignore[attr-defined]


def entry_names(path: str | PathLike[str]) -> set[str] | None:
    """Return the names of the archive's parts, or None if it is no ZIP we would read."""
    if not directory_readable(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def unpack_check(path: str | PathLike[str]) -> None:
    """Unpack every part of the archive in memory, in pieces, and throw the bytes away.

    Raises ArchiveTooLarge if it has more than ZIP_MAX_ENTRIES parts or declares more than
    ZIP_MAX_UNPACKED_BYTES unpacked, and ArchiveBroken if a part cannot be read, fails its
    checksum, or unpacks to more than it declared.
    """
    if not directory_readable(path):
        raise ArchiveTooLarge
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > ZIP_MAX_ENTRIES:
                raise ArchiveTooLarge
            if sum(part.file_size for part in parts) > ZIP_MAX_UNPACKED_BYTES:
                raise ArchiveTooLarge
            for part in parts:
                _unpack_part(archive, part)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as exc:
        # RuntimeError: an encrypted part; ValueError, EOFError: a damaged stream.
        raise ArchiveBroken from exc


def _unpack_part(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
    if part.flag_bits & 0x1 or part.compress_type not in _METHODS:
        raise ArchiveBroken
    # zipfile stops a part at its declared size and so would not notice one that runs on:
    # let it read one byte further, and count.
    probe = copy.copy(part)
    probe.file_size = part.file_size + 1
    unpacked = 0
    with archive.open(probe) as stream:
        while chunk := stream.read(_CHUNK):
            unpacked += len(chunk)
            if unpacked > part.file_size:
                raise ArchiveBroken
    if unpacked != part.file_size:
        raise ArchiveBroken
