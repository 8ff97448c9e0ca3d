"""Requests this server makes to a service elsewhere (MedlinePlus, the breached-password range
API): no redirects followed, one time-out for the whole answer, and a cap on its size."""

from __future__ import annotations

import http.client
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from email.message import Message
from typing import IO
from urllib.request import HTTPRedirectHandler, Request, build_opener


class Unreachable(Exception):
    """The service could not be reached, was too slow, or its answer was too large."""


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(
        self,
        req: Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> None:
        return None  # a redirect answer is an HTTPError: the service moved or is misconfigured


_opener = build_opener(_NoRedirects)


# The requests run here, so that the caller waits ``timeout`` at most for the whole of one: a
# socket's own time-out bounds each read, not a name lookup nor an answer sent a byte at a time.
# One left running after its caller gave up ends by its own time-outs; while a few do, later
# requests wait in line and give up in their turn.
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="outbound")


def fetch(url: str, *, headers: Mapping[str, str], timeout: float, max_bytes: int) -> bytes:
    """GET ``url`` (an http(s) URL the settings checked at start-up) and return its body.

    Raises Unreachable for a network fault, an HTTP error or redirect, an answer not complete
    within ``timeout`` seconds in all (the name lookup included), or one larger than
    ``max_bytes``.
    """
    future = _pool.submit(_get, url, headers, timeout, max_bytes)
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        raise Unreachable(f"No full answer within {timeout} s.") from None


def _get(url: str, headers: Mapping[str, str], timeout: float, max_bytes: int) -> bytes:
    request = Request(url, headers=dict(headers))  # noqa: S310 - http(s), checked at start-up
    deadline = time.monotonic() + timeout
    body = bytearray()
    try:
        with _opener.open(request, timeout=timeout) as response:
            while chunk := response.read1(64 * 1024):  # what has come, not a full 64 KiB
                body += chunk
                if len(body) > max_bytes:
                    raise Unreachable("The answer was too large.")
                if time.monotonic() > deadline:
                    raise Unreachable(f"No full answer within {timeout} s.")
    except (OSError, http.client.HTTPException) as exc:  # URLError, HTTPError, timeouts
        raise Unreachable(str(exc)) from exc
    return bytes(body)
