"""Every upload scanned by ClamAV's daemon, clamd, before it is kept (ASVS 5.4.3).

Off unless ``CLINICPORTAL_CLAMD`` names the daemon: the path of its local socket
(``/run/clamav/clamd.ctl``, Debian's) or ``host:port`` for its TCP socket. Each upload is sent
with clamd's INSTREAM command: ``zINSTREAM\\0``, then the file in chunks, each after its length
as 4 bytes in network order, then a chunk of length 0. clamd answers ``stream: OK\\0``,
``stream: <signature> FOUND\\0``, or ``... ERROR\\0`` (a file over its ``StreamMaxLength``).

With scanning on, a file is kept only once clamd says it is clean: one it cannot scan (the
daemon down, too slow, or refusing) is refused too, kindly, and nothing of it is kept. The
operator watches ``/readyz/scanner``.
"""

from __future__ import annotations

import logging
import socket
import struct
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as LookupTimedOut
from pathlib import Path

from django.conf import settings

from clinicportal.core.health import Probe

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
REPLY_MAX = 4096
PROBE_TIMEOUT = 2  # seconds: the probe answers anyone, and must not hold a worker
# A host name is looked up in a thread of these, so that the time-out bounds the lookup too:
# the system's resolver takes none, and an unanswering name server holds it for many seconds.
# A lookup still hanging keeps its thread, and the next wait no longer than the time-out;
# one given up before it began is not made. (Its threads start with the first lookup, in the
# worker: gunicorn must not fork after one, as it would with preload_app.)
_LOOKUPS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="clamd-lookup")


class ScannerUnavailable(Exception):
    """clamd could not be reached, did not answer in time, or could not scan the file."""


class TooLargeToScan(ScannerUnavailable):
    """clamd takes files up to its StreamMaxLength, and this one is larger: trying again will
    not help."""


def scanning_on() -> bool:
    return bool(settings.CLINICPORTAL_CLAMD)


def _connect(timeout: float) -> socket.socket:
    where = settings.CLINICPORTAL_CLAMD
    try:
        if where.startswith("/"):
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                connection.settimeout(timeout)
                connection.connect(where)
            except OSError:
                connection.close()
                raise
            return connection
        host, _sep, port = where.rpartition(":")
        return _connect_tcp(host.strip("[]"), int(port), timeout)
    except OSError as exc:
        raise ScannerUnavailable(f"clamd at {where} cannot be reached: {exc}") from exc


def _connect_tcp(host: str, port: int, timeout: float) -> socket.socket:
    """Connect to the first of the host's addresses that answers, as create_connection does,
    with the host name's lookup bounded by ``timeout`` too."""
    lookup = _LOOKUPS.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        addresses = lookup.result(timeout=timeout)
    except LookupTimedOut:
        lookup.cancel()
        raise OSError(f"looking up {host} took more than {timeout} s") from None
    failure: OSError = OSError(f"{host} has no address")
    for *_kind, address in addresses:
        try:
            return socket.create_connection((str(address[0]), port), timeout=timeout)
        except OSError as exc:
            failure = exc
    raise failure


def _reply(connection: socket.socket) -> str:
    answer = b""
    while not answer.endswith(b"\0"):
        part = connection.recv(REPLY_MAX)
        if not part or len(answer) > REPLY_MAX:
            raise ScannerUnavailable("clamd closed the connection without an answer.")
        answer += part
    return answer.rstrip(b"\0").decode("utf-8", errors="replace")


def scan_file(path: Path) -> str | None:
    """The name of what clamd found in the file, or None when it is clean.

    Raises ScannerUnavailable when clamd cannot say.
    """
    answer = ""
    try:
        with _connect(settings.CLINICPORTAL_CLAMD_TIMEOUT) as connection, path.open("rb") as file:
            connection.sendall(b"zINSTREAM\0")
            try:
                while chunk := file.read(CHUNK):
                    connection.sendall(struct.pack("!L", len(chunk)) + chunk)
                connection.sendall(struct.pack("!L", 0))
            except (BrokenPipeError, ConnectionResetError):
                pass  # clamd hung up mid-file: it says why first (over its StreamMaxLength)
            answer = _reply(connection)
    except OSError as exc:  # a time-out, or the daemon gone
        raise ScannerUnavailable(f"clamd did not finish the scan: {exc}") from exc
    found = answer.removeprefix("stream:").strip()
    if found == "OK":
        return None
    if found.endswith(" FOUND"):
        return found.removesuffix(" FOUND")
    if "size limit exceeded" in found:
        raise TooLargeToScan(found)
    raise ScannerUnavailable(f"clamd could not scan the file: {found}")


def scanner_probe() -> Probe:
    """``/readyz/scanner``: clamd answers PING, or scanning is off."""
    if not scanning_on():
        return Probe(ready=True, details={"scanner": "off"})
    try:
        with _connect(PROBE_TIMEOUT) as connection:
            connection.sendall(b"zPING\0")
            ready = _reply(connection) == "PONG"
    except (ScannerUnavailable, OSError) as exc:
        log.error("The virus scanner is unreachable: %s", exc)
        ready = False
    return Probe(ready=ready, details={"scanner": "ok" if ready else "unreachable"})
