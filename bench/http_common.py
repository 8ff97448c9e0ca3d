"""What the HTTP benchmarks share: a real gunicorn, its worker's memory, a small HTTP client.

The client opens one connection per request (gunicorn's sync worker closes it after each
response anyway), keeps cookies like a browser, and streams bodies both ways in chunks, so
that neither side of a large transfer is held in memory by the benchmark itself.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from types import TracebackType

from common import ROOT

CHUNK = 1024 * 1024
MB = 1024 * 1024
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    """Return once something accepts connections on ``port``; fail if ``process`` ends first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port} within {seconds} s:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """End a server we started: politely, then firmly."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


class Gunicorn:
    """``gunicorn config.wsgi -w 1`` (or ``workers``) on a free loopback port, bench settings.

    The environment is this process's (DATABASE_URL and CLINICPORTAL_STORAGE_DIR as set by
    setup_django) in the default profile with DEBUG off, plus ``env``.
    """

    def __init__(
        self,
        *,
        log: Path,
        env: dict[str, str] | None = None,
        timeout: int = 30,
        workers: int = 1,
    ):
        self.port = free_port()
        self.workers = workers
        self.log = log
        self.env = {
            **os.environ,
            "CLINICPORTAL_ENV": "development",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-w",
            str(self.workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--timeout",
            str(self.timeout),
        ]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        wait_for_port(self.port, self.process, self.log, seconds=30)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stop(self.process)

    def worker_pid(self) -> int:
        """Return the pid of the master's one worker (its only child process)."""
        assert self.process is not None
        master = self.process.pid
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
            if len(children) == 1:
                return int(children[0])
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn {master} has no single worker: {children}")


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` (VmRSS), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class RssSampler:
    """Sample a process's resident memory every ``interval`` seconds while in the ``with``.

    ``baseline`` is taken on entry; ``growth_mb`` is the peak seen above it.
    """

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.baseline = rss_bytes(pid)
        self.peak = self.baseline
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        self.peak = max(self.peak, rss_bytes(self.pid))
        self.samples += 1

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / MB


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Transfer:
    size: int
    seconds: float  # from the request's start to the whole response
    sent_seconds: float | None = None  # for uploads: until the last byte was handed to the socket

    @property
    def mb_per_s(self) -> float:
        return self.size / MB / self.seconds


@dataclass
class HttpClient:
    """A browser-like client for one server on loopback: cookies kept, no redirects followed."""

    port: int
    host: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=600)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"User-Agent": "clinicportal-bench/1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**headers, **(extra or {})}

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        conn = self._connect()
        try:
            conn.request(method, path, body=body, headers=self._headers(headers))
            response = conn.getresponse()
            self._keep_cookies(response)
            return Response(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict[str, str]) -> Response:
        body = urllib.parse.urlencode(fields).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def csrf_token(self, path: str) -> str:
        """GET a page with a form; return its CSRF token (the cookie comes with it)."""
        response = self.get(path)
        assert response.status == 200, (path, response.status)
        found = _CSRF_INPUT.search(response.body.decode())
        assert found, f"no CSRF token in {path}"
        return found.group(1)

    def download(self, path: str, chunk: int = CHUNK) -> Transfer:
        """GET ``path`` and read the whole body ``chunk`` bytes at a time, keeping none of it."""
        buffer = memoryview(bytearray(chunk))
        conn = self._connect()
        try:
            started = time.perf_counter()
            conn.request("GET", path, headers=self._headers())
            response = conn.getresponse()
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status} {response.read()[:500]!r}")
            size = 0
            while count := response.readinto(buffer):
                size += count
            seconds = time.perf_counter() - started
        finally:
            conn.close()
        expected = int(response.headers.get("Content-Length", size))
        if size != expected:
            raise RuntimeError(f"GET {path}: {size} bytes of {expected}")
        return Transfer(size, seconds)

    def upload(
        self, path: str, *, content_type: str, length: int, chunks: Iterable[bytes]
    ) -> tuple[Response, Transfer]:
        """POST a body of ``length`` bytes sent chunk by chunk; time it up to the response."""
        conn = self._connect()
        try:
            started = time.perf_counter()
            conn.putrequest("POST", path)
            headers = self._headers({"Content-Type": content_type, "Content-Length": str(length)})
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            sent = 0
            for piece in chunks:
                conn.send(piece)
                sent += len(piece)
            assert sent == length, (sent, length)
            sent_seconds = time.perf_counter() - started
            response = conn.getresponse()
            self._keep_cookies(response)
            result = Response(response.status, response.headers, response.read())
            seconds = time.perf_counter() - started
        finally:
            conn.close()
        return result, Transfer(length, seconds, sent_seconds)


@dataclass
class Multipart:
    """A multipart/form-data body with one file, produced a chunk at a time."""

    fields: dict[str, str]
    file_field: str
    filename: str
    file_type: str
    file_size: int
    file_chunks: Iterable[bytes]
    boundary: str = field(default_factory=lambda: f"bench{secrets.token_hex(16)}")

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _head(self) -> bytes:
        parts = [
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in self.fields.items()
        ]
        parts.append(
            f"--{self.boundary}\r\nContent-Disposition: form-data; "
            f'name="{self.file_field}"; filename="{self.filename}"\r\n'
            f"Content-Type: {self.file_type}\r\n\r\n"
        )
        return "".join(parts).encode()

    def _tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    def __len__(self) -> int:
        return len(self._head()) + self.file_size + len(self._tail())

    def __iter__(self) -> Iterator[bytes]:
        yield self._head()
        yield from self.file_chunks
        yield self._tail()


def portal_sign_in(client: HttpClient, *, slug: str, username: str, password: str) -> None:
    """Sign in to a practice's patient portal through its login form, like a browser."""
    login = f"/p/{slug}/login/"
    token = client.csrf_token(login)
    response = client.post_form(
        login, {"csrfmiddlewaretoken": token, "username": username, "password": password}
    )
    if response.status != 302 or "login" in response.location:
        raise RuntimeError(f"portal sign-in failed: {response.status} {response.location}")


def office_sign_in(client: HttpClient, *, username: str, password: str, code: str) -> None:
    """Sign in to the office console, like a browser: the password, then a two-step code."""
    login = "/office/login/"
    token = client.csrf_token(login)
    response = client.post_form(
        login, {"csrfmiddlewaretoken": token, "username": username, "password": password}
    )
    if response.status != 302 or not response.location.endswith("/office/login/code/"):
        raise RuntimeError(f"office sign-in failed: {response.status} {response.location}")
    step = "/office/login/code/"
    token = client.csrf_token(step)
    response = client.post_form(step, {"csrfmiddlewaretoken": token, "code": code})
    if response.status != 302 or "login" in response.location:
        raise RuntimeError(f"office code refused: {response.status} {response.location}")


def office_search(client: HttpClient, text: str) -> str:
    """Post a patient search like the office's search box; return the page it leads to.

    That address holds only the search's handle (``/office/patients/?s=...``), good in this
    client's session for its last few searches (office/searches.py).
    """
    token = client.csrf_token("/office/patients/")
    response = client.post_form("/office/patients/", {"csrfmiddlewaretoken": token, "q": text})
    if response.status != 302 or "?s=" not in response.location:
        raise RuntimeError(f"office search failed: {response.status} {response.location}")
    return response.location
