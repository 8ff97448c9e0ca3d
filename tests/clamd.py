"""A real ClamAV daemon for the tests, with a signature database of one test signature.

The official signatures cannot be downloaded here, so the database is ``MARKER_SIGNATURE``: any
file that holds ``MARKER`` is found as ``ClinicPortal.Test.Marker.UNOFFICIAL``, the way clamd
finds any virus by its bytes. Debian's clamav-daemon package provides /usr/sbin/clamd.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER = b"CLINICPORTAL-TEST-MALWARE-7f3a"
FOUND_AS = "ClinicPortal.Test.Marker.UNOFFICIAL"
CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"


def require_clamd() -> None:
    """Skip a test without clamd on a developer's machine; in CI, which installs it, fail."""
    import pytest

    if Path(CLAMD).exists():
        return
    if os.environ.get("CI"):
        pytest.fail("clamd is missing: .ci/run installs Debian's clamav-daemon")
    pytest.skip("clamd is not installed (Debian's clamav-daemon)")


@contextmanager
def running_clamd(folder: Path, stream_max: str = "60M") -> Iterator[Path]:
    """Start clamd on a local socket in ``folder``, taking files up to ``stream_max``; yield
    the socket's path; stop it."""
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
        f"StreamMaxLength {stream_max}\n"
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
