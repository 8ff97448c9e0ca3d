"""Read settings from the environment, failing loudly on a malformed value.

Each helper names the variable in its error so that a bad deployment stops at
start-up with a message an operator can act on, instead of guessing.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str) -> str:
    """Return the variable's value, or ``default`` when it is unset or empty."""
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    """Return the variable as a boolean; anything but true/false/1/0/yes/no/on/off is an error."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (got {value!r}).")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Return the variable as a whole number no smaller than ``minimum``."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number (got {value!r}).") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum} (got {number}).")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated variable as a list, without empty items."""
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_socket(name: str) -> str:
    """Return the variable as a daemon's socket: an absolute path (a local socket) or
    ``host:port``; "" when unset or ``off`` (as the other settings that can be off say it)."""
    value = env_str(name, "").strip()
    if value.lower() == "off":
        return ""
    if not value or value.startswith("/"):
        return value
    host, _sep, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ImproperlyConfigured(
            f"{name} must be a socket's absolute path or host:port (got {value!r})."
        )
    return value


def env_networks(name: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Return a comma-separated list of IP addresses and CIDR networks (``10.0.0.0/8``).

    A network with host bits set (``10.0.0.5/8``) is an error, since it is most likely a typo.
    """
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks such as 10.0.0.0/8, "
                f"separated by commas (got {item!r})."
            ) from None
    return tuple(networks)


def env_http_url(name: str, default: str) -> str:
    """Return the variable as an http(s) URL with a host; anything else is an error."""
    value = env_str(name, default)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must be an http:// or https:// URL (got {value!r}).")
    return value


def env_http_url_or_off(name: str, default: str) -> str:
    """Return the variable as an http(s) URL that ends with "/" (what is asked for is added to
    it), or "" when it says ``off``."""
    if env_str(name, default).strip().lower() == "off":
        return ""
    value = env_http_url(name, default)
    if not value.endswith("/"):
        raise ImproperlyConfigured(f"{name} must end with / (got {value!r}).")
    return value


def base_url(name: str, *, production: bool, default: str | None = None) -> str:
    """Return the site's public address, scheme and host only, without a trailing slash.

    Links in emails are built from it, never from a request's Host header. Production must set
    it, with https, unless it has a ``default``.
    """
    value = _raw(name)
    if value is None and default is not None:
        return default
    if value is None:
        if production:
            raise ImproperlyConfigured(
                f"{name} must be set in production: the address patients reach the site at, "
                "such as https://portal.example.org."
            )
        value = "http://127.0.0.1:8000"
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path.strip("/")
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
        or (production and parts.scheme != "https")
    ):
        scheme = "https://" if production else "http:// or https://"
        raise ImproperlyConfigured(
            f"{name} must be an {scheme} address with a host and nothing after it (got {value!r})."
        )
    return f"{parts.scheme}://{parts.netloc}"


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Return the variable, which must be one of ``choices``."""
    value = env_str(name, default)
    if value not in choices:
        allowed = ", ".join(choices)
        raise ImproperlyConfigured(f"{name} must be one of {allowed} (got {value!r}).")
    return value


def env_database(name: str, default_sqlite: Path) -> dict[str, Any]:
    """Return Django's database settings from a database URL, or a SQLite file."""
    value = _raw(name)
    prepared = env_bool("CLINICPORTAL_DB_PREPARED", True)  # read, so a bad value always stops
    if value is None:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(default_sqlite),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL;",
            },
        }
    if "://" not in value:
        raise ImproperlyConfigured(
            f"{name} must be a database URL such as postgres://user@host:5432/name (got {value!r})."
        )
    try:
        config = dict(dj_database_url.parse(value, conn_max_age=60, conn_health_checks=True))
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"{name} is not a database URL Django can use: {exc}") from None
    if not config.get("ENGINE"):
        raise ImproperlyConfigured(f"{name} names a database engine Django does not know.")
    if config["ENGINE"] == "django.db.backends.postgresql" and prepared:
        # A page asks the same few queries again and again: PostgreSQL plans each once a
        # connection instead of every time (psycopg prepares a query on its sixth use). Django
        # leaves this off for poolers that cannot carry prepared statements (PgBouncer in
        # transaction mode before 1.21, or without max_prepared_statements): set the variable
        # to false behind one.
        options = config.get("OPTIONS")
        config["OPTIONS"] = {
            **(options if isinstance(options, dict) else {}),
            "server_side_binding": True,
            "prepare_threshold": 5,
        }
    return config


def secret_key(*, production: bool, var_dir: Path) -> str:
    """Return SECRET_KEY: required in production, else generated once into ``var_dir``."""
    value = _raw("SECRET_KEY")
    if value is not None:
        if len(value) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long.")
        return value
    if production:
        raise ImproperlyConfigured("SECRET_KEY must be set when CLINICPORTAL_ENV=production.")
    return _made_once(var_dir / "secret_key", lambda: secrets.token_urlsafe(64))


def _made_once(path: Path, make: Callable[[], str]) -> str:
    """The value kept in ``path`` (readable by its owner only), made by ``make`` the first time.

    Processes that start at once on a new machine (a server and its worker, several workers,
    the two test passes) all take the same value: each writes its own to a file of its own and
    links that into place, which only the first can do; the others read the first one's. No
    one ever reads a file half written.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
        finally:
            os.unlink(temp)
    return path.read_text().strip()


def secrets_keys(*, production: bool, var_dir: Path) -> list[str]:
    """Return the keys that encrypt stored secrets (SMTP passwords, authenticator keys).

    CLINICPORTAL_SECRETS_KEYS is a comma-separated list of Fernet keys: the first encrypts,
    all decrypt, so a new key goes first and the old one stays until every row is rewritten.
    Required in production; generated once into ``var_dir`` otherwise.
    """
    from cryptography.fernet import Fernet

    name = "CLINICPORTAL_SECRETS_KEYS"
    keys = env_list(name, [])
    if not keys:
        if production:
            raise ImproperlyConfigured(
                f"{name} must be set when CLINICPORTAL_ENV=production "
                "(make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')."
            )
        keys = [_made_once(var_dir / "secrets_key", lambda: Fernet.generate_key().decode())]
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must hold Fernet keys (32 url-safe base64 bytes each)."
            ) from None
    return keys
