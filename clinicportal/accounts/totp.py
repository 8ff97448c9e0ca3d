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


# Recovery codes: Crockford's base32 (no I, L, O or U to misread), 24 characters of 5 bits each.
# 120 random bits are out of reach of guessing even with the hashes in hand, so a plain
# SHA-256 keeps them safely (ASVS 6.5.2 asks for 112 bits before allowing an unsalted hash).
RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECOVERY_LENGTH = 24
RECOVERY_GROUP = 4
# What people misread, mapped as Crockford's base32 decodes them.
_RECOVERY_READ = str.maketrans({"I": "1", "L": "1", "O": "0"})


def recovery_codes(count: int = 10) -> list[str]:
    """Return one-time recovery codes (120 bits each), shown as XXXX-XXXX-XXXX-XXXX-XXXX-XXXX."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        groups = (raw[i : i + RECOVERY_GROUP] for i in range(0, RECOVERY_LENGTH, RECOVERY_GROUP))
        codes.append("-".join(groups))
    return codes


def recovery_normalize(code: str) -> str | None:
    """Return a typed recovery code as it is hashed, or None if it cannot be one.

    Any case, with or without the hyphens, with spaces anywhere; I and L read as 1, O as 0.
    """
    text = "".join(code.replace("-", " ").split()).upper().translate(_RECOVERY_READ)
    if len(text) != RECOVERY_LENGTH or any(c not in RECOVERY_ALPHABET for c in text):
        return None
    return text


def recovery_hash(code: str) -> str:
    """Return the SHA-256 that a recovery code is kept as: that of its normal form."""
    normal = recovery_normalize(code)
    if normal is None:
        raise ValueError("not a recovery code")
    return hashlib.sha256(normal.encode()).hexdigest()
