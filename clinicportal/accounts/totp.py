"""Time-based one-time passwords (RFC 6238) for two-step sign-in with an authenticator app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP = 30
DIGITS = 6
# Accept the code of the previous 30 seconds too, for a code typed as it changed; never a
# future step, so a code read off a phone whose clock runs ahead does not work early.
PAST_STEPS = 1


def new_secret() -> str:
    """Return a new random secret (160 bits), base32 as authenticator apps expect."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def code_at(secret: str, step: int) -> str:
    """Return the code for one 30-second step (RFC 4226 truncation of HMAC-SHA1)."""
    digest = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP)


def matching_step(
    secret: str, code: str, *, after: int | None, now: float | None = None
) -> int | None:
    """Return the step whose code is ``code``, now or one step ago, if later than ``after``.

    ``after`` is the last step that signed in: a code that worked once never works again.
    """
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    here = current_step(now)
    for step in range(here - PAST_STEPS, here + 1):
        if (after is None or step > after) and hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def provisioning_uri(secret: str, *, issuer: str, account: str) -> str:
    """Return the otpauth:// address an authenticator app reads from the QR code."""
    label = quote(f"{issuer}:{account}")
    query = urlencode({"secret": secret, "issuer": issuer, "digits": DIGITS, "period": STEP})
    return f"otpauth://totp/{label}?{query}"


def qr_data_uri(uri: str) -> str:
    """Return the QR code of ``uri`` as an SVG data: address (allowed by our CSP)."""
    import segno

    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def recovery_codes(count: int = 10) -> list[str]:
    """Return one-time recovery codes, easy to read: xxxx-xxxx-xxxx (60 bits each)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return [
        "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))
        for _ in range(count)
    ]


def recovery_hash(code: str) -> str:
    return hashlib.sha256("".join(code.lower().split()).encode()).hexdigest()
