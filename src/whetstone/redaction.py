"""Secrets out of the logs: API keys, bearer tokens and provider keys are redacted from every
log record, message, arguments and traceback (docs/security.md).

:func:`install` wraps the process's log-record factory, so every record is redacted when it
is created, whichever logger makes it (the server's, uvicorn's access and error logs,
httpx's, a plugin's) and whichever handler writes it. ``create_app`` installs it, so the
server and ``whetstone serve`` always run with it; installing twice is harmless.
What is redacted, keeping only what helps to tell keys apart:

- Whetstone keys ``wst_<prefix>_<secret>`` become ``wst_<prefix>_…`` (the prefix is a public
  lookup id); anything else shaped ``wst_…`` becomes ``wst_…``;
- provider keys ``sk-ant-…`` and ``sk-…`` become ``sk-ant-…`` / ``sk-…``;
- ``Bearer <token>`` becomes ``Bearer …``;
- the value after ``Authorization``, ``x-api-key``, ``api-key``/``api_key``/``apiKey``,
  ``access_token``, ``token``, ``secret_key``, ``password`` (``name: value``,
  ``name=value``, ``'name': 'value'``);
- URL parameters ``key``, ``api_key``, ``apikey``, ``token``, ``access_token`` and
  ``code`` (login codes) in a query string or fragment.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

REDACTED = "…"

_VALUE = r"[^\s'\",;&]+"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # a named credential, its scheme (Bearer, Basic) included: "Authorization: …"
    (
        re.compile(
            r"(?i)\b((?:authorization|proxy-authorization|x-api-key|api[-_]?key|access[-_]?token"
            r"|token|secret[-_]?key|password)(?:['\"]\s*,|['\"]?\s*[:=])\s*+(?>(?:b?['\"])?))"
            r"(?>(?:(?:bearer|basic|token)\s+)?)(?!…)" + _VALUE
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer\s+)(?!…)" + _VALUE), r"\1" + REDACTED),
    (re.compile(r"\b(wst_[0-9a-f]{12}_)(?!…)[A-Za-z0-9_\-]+"), r"\1" + REDACTED),
    (re.compile(r"\bwst_(?![0-9a-f]{12}_…)(?!…)[A-Za-z0-9_\-]+"), "wst_" + REDACTED),
    (re.compile(r"\b(sk-ant-)(?!…)[A-Za-z0-9_\-]{4,}"), r"\1" + REDACTED),
    (re.compile(r"\b(sk-)(?!ant-…)[A-Za-z0-9_\-]{8,}"), r"\1" + REDACTED),
    (
        re.compile(r"(?i)([?&#;](?:key|api[-_]?key|token|access[-_]?token|code)=)(?!…)[^&\s'\"#]+"),
        r"\1" + REDACTED,
    ),
)


def redact_text(text: str) -> str:
    """``text`` with every secret this module knows the shape of replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class _Shown:
    """An argument whose text held a secret: prints as its redacted text."""

    __slots__ = ("_repr", "_str")

    def __init__(self, value: object) -> None:
        self._str = redact_text(str(value))
        self._repr = redact_text(repr(value))

    def __str__(self) -> str:
        return self._str

    def __repr__(self) -> str:
        return self._repr


def _redact_arg(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact_text(value)
    try:
        text, shown = str(value), repr(value)
    except Exception:
        return value
    if redact_text(text) == text and redact_text(shown) == shown:
        return value  # nothing to hide: keep the object (formatters may want it)
    return _Shown(value)


def redact_record(record: logging.LogRecord) -> None:
    """Redact ``record`` in place: message, arguments, traceback and stack text."""
    if isinstance(record.msg, str):
        record.msg = redact_text(record.msg)
    else:
        record.msg = _redact_arg(record.msg)
    args = record.args
    if isinstance(args, tuple):
        record.args = tuple(_redact_arg(a) for a in args)
    elif isinstance(args, Mapping):
        record.args = {k: _redact_arg(v) for k, v in args.items()}
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)


class RedactingFilter(logging.Filter):
    """The same redaction as a filter, for a handler that gets records made elsewhere
    (``logging.makeLogRecord``, a queue listener) and so past the factory."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class _RedactingFactory:
    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        try:
            redact_record(record)
        except Exception:  # never lose a log line to the redactor; drop its arguments
            record.msg, record.args = redact_text(str(record.msg)), ()
        return record


def install() -> None:
    """Redact every log record of this process from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(current))
