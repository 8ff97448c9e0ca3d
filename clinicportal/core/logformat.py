"""How log lines are written: one JSON object a line (or one readable line, for development).

Every line has ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, and the context
of ``logcontext``: ``request_id``, ``practice``, ``actor`` (and ``path``, ``task``, ``worker``
where known). Nothing a caller passes in can start a new line: JSON escapes every control
character, and the line separators JSON leaves alone are escaped too.

An exception is written as its type and where it was raised (file, line, function), never its
message, which may quote data: a database error quotes the row it refused, a mail server the
address it refused. A log call that needs a detail says so in its own message (see
``error_code``).
"""

from __future__ import annotations

import errno
import json
import logging
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from clinicportal.core import logcontext

CONTEXT_FIELDS = ("request_id", "practice", "actor")
# Further fields written when a record has them (from the context or a log call's ``extra``).
EXTRA_FIELDS = ("path", "method", "status", "duration_ms", "worker", "task", "email")
# Characters that some readers take as a line break though JSON does not escape them.
LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}
MAX_MESSAGE = 4000
STACK_FRAMES = 20  # the innermost ones

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class ContextFilter(logging.Filter):
    """Copy the current log context onto each record (on the handler, so on every record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = logcontext.current()
        for name, value in context.items():
            if not name.startswith("_") and not hasattr(record, name):
                setattr(record, name, value)
        raw = context.get(logcontext.RAW_PATH)
        if raw:  # Django's own lines (django.request) write the raw path: mask it there too
            message = record.getMessage()
            if raw in message:
                record.msg = message.replace(raw, context["path"])
                record.args = None
        return True


def error_code(exc: BaseException) -> str:
    """Name an error for the log without its message: its type, and the database's, the mail
    server's or the system's code when there is one (``OperationalError 08006``,
    ``SMTPDataError 550``, ``OSError ENOSPC``)."""
    code = _code(exc)
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__


def _code(exc: BaseException) -> str:
    for source in (exc, exc.__cause__):
        for attribute in ("sqlstate", "sqlite_errorname", "smtp_code"):
            code = getattr(source, attribute, None)
            if code:
                return str(code)
    number = getattr(exc, "errno", None)
    return errno.errorcode.get(number, "") if isinstance(number, int) else ""


def iso_utc(created: float) -> str:
    return (
        datetime.fromtimestamp(created, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def exception_summary(exc_info: ExcInfo) -> dict[str, Any]:
    """An exception's type and innermost frames, and the same for what it was raised from."""
    _type, exc, tb = exc_info
    summary: dict[str, Any] = {
        "type": f"{type(exc).__module__}.{type(exc).__qualname__}",
        **({"code": code} if (code := _code(exc)) else {}),
        "stack": [
            f"{frame.filename}:{frame.lineno} in {frame.name}"
            for frame in traceback.extract_tb(tb)[-STACK_FRAMES:]
        ],
    }
    origin = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if origin is not None:
        summary["from"] = exception_summary((type(origin), origin, origin.__traceback__))
    return summary


def entry(record: logging.LogRecord) -> dict[str, Any]:
    """The fields of one log line, in order."""
    fields: dict[str, Any] = {
        "time": iso_utc(record.created),
        "level": record.levelname,
        "logger": record.name,
        "message": record.getMessage()[:MAX_MESSAGE],
    }
    for name in CONTEXT_FIELDS:
        fields[name] = getattr(record, name, None)
    for name in EXTRA_FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            fields[name] = value if isinstance(value, int | float) else str(value)
    if record.exc_info and record.exc_info[1] is not None:
        fields["exception"] = exception_summary(record.exc_info)
    return fields


def one_line(text: str) -> str:
    for character, escaped in LINE_BREAKS.items():
        text = text.replace(character, escaped)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object a line: what log processors read (ASVS 16.2.4)."""

    def format(self, record: logging.LogRecord) -> str:
        return one_line(json.dumps(entry(record), ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """One readable line (CLINICPORTAL_LOG_FORMAT=text), with the same fields and escaping."""

    def format(self, record: logging.LogRecord) -> str:
        fields = entry(record)
        context = " ".join(
            f"{name}={_escaped(value)}"
            for name, value in fields.items()
            if _is_context(name, value)
        )
        message = _escaped(fields["message"])
        line = f"{fields['time']} {fields['level']} {fields['logger']} [{context}] {message}"
        exception = fields.get("exception")
        while isinstance(exception, Mapping):
            line += f" | {exception['type']} at {' < '.join(reversed(exception['stack']))}"
            exception = exception.get("from")
        return one_line(line)


def _escaped(value: object) -> str:
    """``value`` with control characters escaped as JSON escapes them, without the quotes."""
    return json.dumps(str(value), ensure_ascii=False)[1:-1]


def _is_context(name: str, value: object) -> bool:
    return value is not None and name not in {"time", "level", "logger", "message", "exception"}
