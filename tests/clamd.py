"""A real ClamAV daemon for the tests, with a signature database of one test signature.

The official signatures cannot be downloaded here, so the database is ``MARKER_SIGNATURE``: any
file that holds ``MARKER`` is found as ``ClinicPortal.Test.Marker.UNOFFICIAL``, the way clamd
finds any virus by its bytes. Debian's clamav-daemon package provides /usr/sbin/clamd.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER = b"CLINICPORTAL-TEST-MALWARE-7f3a"
FOUND_AS = "ClinicPortal.Test.Marker.UNOFFICIAL"
CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"


def clamd_installed() -> bool:
    return Path(CLAMD).exists()


@contextmanager
def running_clamd(folder: Path) -> Iterator[Path]:
    """Start clamd on a local socket in ``folder``; yield the socket's path; stop it."""
    database = folder / "db"
    database.mkdir()
    # An extended signature: name, any file type, any offset, the bytes in hex.
    (database / "test.ndb").write_text(f"ClinicPortal.Test.Marker:0:*:{MARKER.hex()}\n")
    sock = folder / "clamd.sock"
    config = folder / "clamd.conf"
    config.write_text(
        "Foreground yes\n"
        f"LocalSocket {sock}\n"
        f"DatabaseDirectory {database}\n"
        f"LogFile {folder / 'clamd.log'}\n"
        "StreamMaxLength 60M\n"
    )
    process = subprocess.Popen(
        [CLAMD, f"--config-file={config}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not sock.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"clamd did not start: {process.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.1)
        yield sock
    finally:
        process.terminate()
        process.wait(timeout=30)
