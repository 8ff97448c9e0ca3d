"""Portal passwords: generation, validation, hashing (Argon2id) and timing-safe checks."""

from __future__ import annotations

import datetime
import re
import secrets
import unicodedata
from functools import cache
from typing import TYPE_CHECKING, Any

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher, make_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from clinicportal.accounts.models import PortalAccount
from clinicportal.accounts.password_breaches import BreachedPasswordValidator
from clinicportal.accounts.password_words import ContextWordsValidator

if TYPE_CHECKING:
    from clinicportal.practices.models import Practice

# No look-alikes (0/o, 1/l/i), so a password read off paper is typed right the first time.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
MAX_LENGTH = 256
# How long a password someone else chose (portal or office) lets its owner in to choose their own.
TEMPORARY_PASSWORD_LIFETIME = datetime.timedelta(days=7)


def temporary_password() -> str:
    """Return a strong password to read and type: four groups of four (about 79 bits)."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))


def validate_portal_password(password: str, account: PortalAccount) -> None:
    """Raise ValidationError unless ``password`` may be the account's portal password.

    At least 12 characters, at most 256, not a common password, not like the username or name,
    not mostly the practice's or the site's words (``password_words``), not seen in a breach
    (``password_breaches``). Checked exactly as typed: no trimming and no truncation.
    """
    # The validators only read the account's attributes; it need not be a User.
    _validate(password, account, [*_validators(), ContextWordsValidator(account.practice)])


def validate_staff_password(password: str, user: Any, practice: Practice) -> None:
    """Raise ValidationError unless ``password`` may be the office password of ``user``, a
    staff member of ``practice``: the portal's rules, with AUTH_PASSWORD_VALIDATORS for
    Django's own (the practice's words added to the site's)."""
    validators = [
        validator
        for validator in password_validation.get_default_password_validators()
        if not isinstance(validator, ContextWordsValidator | BreachedPasswordValidator)
    ]
    _validate(password, user, [*validators, ContextWordsValidator(practice)])


def _validate(password: str, user: Any, validators: list[Any]) -> None:
    """At most MAX_LENGTH characters and ``validators``, every problem said at once; then,
    only for a password those took, the breached-password check, which asks a service
    elsewhere."""
    errors: list[ValidationError] = []
    if len(password) > MAX_LENGTH:
        errors.append(
            ValidationError(
                _("Please use at most %(max)d characters.") % {"max": MAX_LENGTH}, code="long"
            )
        )
    try:
        password_validation.validate_password(password, user, password_validators=validators)
    except ValidationError as exc:
        errors.extend(exc.error_list)
    if errors:
        raise ValidationError(errors)
    BreachedPasswordValidator().validate(password)


@cache
def _validators() -> list[Any]:
    return password_validation.get_password_validators(
        [
            {
                "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
                "OPTIONS": {"user_attributes": ("username", "display_name", "email")},
            },
            {
                "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
                "OPTIONS": {"min_length": 12},
            },
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        ]
    )


def hash_password(password: str) -> str:
    return make_password(password)


def password_matches(password: str, encoded: str | None) -> bool:
    """Check a password against a stored hash, or against a dummy one when there is no account.

    The hasher runs either way, so the time taken does not tell whether a username exists.
    """
    if encoded is None:
        check_password(password, _dummy_hash())
        return False
    return check_password(password, encoded)


def password_needs_rehash(encoded: str) -> bool:
    """Return whether a stored hash uses another algorithm or older parameters than today's."""
    preferred = get_hasher()
    current = identify_hasher(encoded)
    return current.algorithm != preferred.algorithm or preferred.must_update(encoded)


@cache
def _dummy_hash() -> str:
    return make_password(secrets.token_urlsafe(16))


def username_key(username: str) -> str:
    """Return the form of a username used to compare and look it up."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def propose_username(first_name: str, last_name: str) -> str:
    """Return a readable username base from a name: Ada Lovelace → alovelace."""

    def ascii_letters(text: str) -> str:
        folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]", "", folded.lower())

    base = (ascii_letters(first_name)[:1] + ascii_letters(last_name))[:20]
    return base or "patient"
