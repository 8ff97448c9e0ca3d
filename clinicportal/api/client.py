"""``clinicportal print-to-portal``: send a PDF to a patient's portal through the API.

    CLINICPORTAL_API_URL=https://portal.example.org CLINICPORTAL_API_KEY=cpk_… \\
        clinicportal print-to-portal --patient 6f1c… --description "Prescription" rx.pdf
    some-program --print-pdf | clinicportal print-to-portal --patient 6f1c… -

An office can point a "print to file" step or a CUPS backend at it (pass the job's id as
--idempotency-key, so that a job run again stores its document once). It needs only the standard
library (no database, no settings), and never takes the key on the command line, where other
users of the machine could read it: the key comes from CLINICPORTAL_API_KEY or --key-file.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import secrets
import sys
import time
import uuid
from email.message import Message
from pathlib import Path
from typing import IO
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

MAX_BYTES = 512 * 1024 * 1024  # the server sets the real limit; this only bounds memory here


class ClientError(Exception):
    """Something the person running the command can act on."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clinicportal print-to-portal",
        description="Put a PDF on a patient's portal (reads the file, or standard input for -).",
    )
    parser.add_argument("file", help="the PDF, or - to read it from standard input")
    parser.add_argument("--patient", required=True, help="the patient's id (Online Portal)")
    parser.add_argument("--description", default="", help="shown to the patient")
    parser.add_argument("--date", default="", help="the document's date, YYYY-MM-DD (today)")
    parser.add_argument("--education", action="store_true", help="an education resource")
    parser.add_argument("--filename", help="name shown for it (default: the file's name)")
    parser.add_argument(
        "--url",
        default=os.environ.get("CLINICPORTAL_API_URL", ""),
        help="the portal's address, e.g. https://portal.example.org (CLINICPORTAL_API_URL)",
    )
    parser.add_argument(
        "--key-file", type=Path, help="a file holding the API key (else CLINICPORTAL_API_KEY)"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds (120)")
    parser.add_argument(
        "--idempotency-key",
        default="",
        help="the same key for every retry of one document, e.g. the print job's id (a new one "
        "each run); the portal stores the document once whatever number of times it is sent",
    )
    return parser


def _read(source: str) -> tuple[bytes, str]:
    if source == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        name = "document.pdf"
    else:
        path = Path(source)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise ClientError(f"Cannot read {source}: {exc.strerror}.") from exc
        name = path.name
    if len(data) > MAX_BYTES:
        raise ClientError("The file is too large to send.")
    if not data:
        raise ClientError("There is nothing to send: the file is empty.")
    return data, name


def _key(key_file: Path | None) -> str:
    if key_file is not None:
        try:
            key = key_file.read_text(encoding="ascii").strip()
        except OSError as exc:
            raise ClientError(f"Cannot read the key file {key_file}: {exc.strerror}.") from exc
        except UnicodeDecodeError:
            raise ClientError(f"{key_file} does not hold an API key.") from None
    else:
        key = os.environ.get("CLINICPORTAL_API_KEY", "").strip()
    if not key or any(ch.isspace() for ch in key):
        raise ClientError("No API key: set CLINICPORTAL_API_KEY or pass --key-file.")
    return key


def _multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = f"clinicportal-{secrets.token_hex(16)}"
    safe_name = filename.replace('"', "'").replace("\r", " ").replace("\n", " ")
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{safe_name}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _portal_url(value: str) -> str:
    """The portal's address: https, or plain http only to this machine (the key travels)."""
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        host, parts = "", urlsplit("")
    if parts.scheme not in ("http", "https") or not host:
        raise ClientError("Give the portal's address with --url or CLINICPORTAL_API_URL.")
    if parts.scheme == "http" and not _is_loopback(host):
        raise ClientError(
            f"{url} is not https: the API key would cross the network unencrypted. "
            "Use the portal's https:// address."
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _RefuseRedirects(HTTPRedirectHandler):
    """Never follow a redirect: it would carry the key somewhere not asked for."""

    def redirect_request(
        self, req: Request, fp: IO[bytes], code: int, msg: str, headers: Message, newurl: str
    ) -> None:
        raise ClientError(f"The portal answered with a redirect to {newurl}; use that address.")


def _json(raw: IO[bytes]) -> object:
    try:
        return json.load(raw)
    except ValueError:  # not JSON (or not UTF-8): not the portal's API answering
        return None


# Seconds to wait before each new attempt when the portal could not be reached or did not
# answer (the request may have been stored: the Idempotency-Key makes the retry safe).
RETRY_WAITS = (1.0, 3.0)
_BUSY = {502, 503, 504}  # a proxy or the server itself, for a moment


class _Unanswered(Exception):
    """No answer, or a passing one: worth sending again with the same key."""


def _send(request: Request, url: str, timeout: float) -> object:
    try:
        with build_opener(_RefuseRedirects).open(request, timeout=timeout) as response:
            return _json(response)
    except HTTPError as exc:
        problem = _json(exc)
        message = problem.get("error") if isinstance(problem, dict) else None
        refused = f"The portal refused it ({exc.code}): {message or exc.reason}"
        if exc.code in _BUSY:
            raise _Unanswered(refused) from exc
        raise ClientError(refused) from exc
    except (URLError, OSError) as exc:
        raise _Unanswered(f"Cannot reach {url}: {exc}") from exc


def print_to_portal(args: argparse.Namespace) -> dict[str, object]:
    url = _portal_url(args.url)
    try:
        patient = uuid.UUID(args.patient)
    except ValueError:
        raise ClientError(f"{args.patient!r} is not a patient id (see Online Portal).") from None
    key = _key(args.key_file)
    data, name = _read(args.file)
    fields = {"description": args.description, "date": args.date}
    if args.education:
        fields["is_education"] = "true"
    body, content_type = _multipart(fields, args.filename or name, data)
    idempotency_key = args.idempotency_key or f"print-{uuid.uuid4()}"
    request = Request(  # noqa: S310 - the scheme is checked above
        f"{url}/api/v1/patients/{patient}/portal-documents",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": content_type,
            "Accept": "application/json",
            "User-Agent": "clinicportal-print-to-portal",
            # Every attempt carries the same key: a retry never stores the document twice.
            "Idempotency-Key": idempotency_key,
        },
    )
    for wait in (*RETRY_WAITS, None):
        try:
            answer = _send(request, url, args.timeout)
            break
        except _Unanswered as exc:
            if wait is None:
                raise ClientError(str(exc)) from exc
            print(f"print-to-portal: {exc}; trying again in {wait:g} s.", file=sys.stderr)
            time.sleep(wait)
    if not isinstance(answer, dict) or "id" not in answer:
        raise ClientError(f"{url} did not answer like Clinic Portal's API; check the address.")
    return answer


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        result = print_to_portal(args)
    except ClientError as exc:
        print(f"print-to-portal: {exc}", file=sys.stderr)
        return 1
    print(f"“{result['filename']}” is on the patient's portal (record {result['id']}).")
    return 0
