"""The WebSocket protocol without I/O: client frames parsed into commands, server frames built.

Error codes sent in ``error`` frames: ``unauthorized``, ``invalid_json``,
``invalid_message``, ``missing_field``, ``invalid_field``, ``unknown_type``,
``not_found``, ``too_many_subscriptions``, ``internal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from whetstone.store.base import EventPage

TYPES = ("auth", "subscribe", "unsubscribe", "replay", "ping")
MAX_EVENT_ID = 2**63 - 1  # what the store can compare; a larger afterEventId is invalid


@dataclass(frozen=True, slots=True)
class Auth:
    token: str


@dataclass(frozen=True, slots=True)
class Subscribe:
    job_id: str
    after: int | None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    job_id: str


@dataclass(frozen=True, slots=True)
class Replay:
    job_id: str
    after: int


@dataclass(frozen=True, slots=True)
class Ping:
    pass


Command = Auth | Subscribe | Unsubscribe | Replay | Ping


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, job_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.job_id = job_id


def _string(data: dict[str, Any], field: str, kind: str) -> str:
    if field not in data:
        raise ProtocolError("missing_field", f"'{kind}' needs '{field}'")
    value = data[field]
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ProtocolError("invalid_field", f"'{field}' must be a non-empty string")
    return value


def _after(data: dict[str, Any], job_id: str) -> int | None:
    value = data.get("afterEventId")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_EVENT_ID:
        raise ProtocolError(
            "invalid_field",
            "'afterEventId' must be a whole number >= 0 (the last id you processed)",
            job_id,
        )
    return value


def parse(text: str) -> Command:
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError("invalid_json", f"the frame is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ProtocolError("invalid_message", "a frame is a JSON object with a 'type'")
    kind = data.get("type")
    if kind is None:
        raise ProtocolError("missing_field", f"the frame has no 'type'; one of: {', '.join(TYPES)}")
    if kind == "ping":
        return Ping()
    if kind == "auth":
        return Auth(_string(data, "token", "auth"))
    if kind in ("subscribe", "unsubscribe", "replay"):
        job_id = _string(data, "jobId", str(kind))
        if kind == "unsubscribe":
            return Unsubscribe(job_id)
        after = _after(data, job_id)
        if kind == "subscribe":
            return Subscribe(job_id, after)
        return Replay(job_id, after or 0)
    raise ProtocolError("unknown_type", f"unknown type {kind!r}; one of: {', '.join(TYPES)}")


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def error(code: str, message: str, job_id: str | None = None) -> str:
    frame: dict[str, Any] = {"type": "error", "code": code, "error": message}
    if job_id is not None:
        frame["jobId"] = job_id
    return _dumps(frame)


AUTHENTICATED = '{"type":"authenticated"}'
PONG = '{"type":"pong"}'
HEARTBEAT = '{"type":"heartbeat"}'


def subscribed(job_id: str, head: int) -> str:
    return _dumps({"type": "subscribed", "jobId": job_id, "headEventId": head})


def unsubscribed(job_id: str) -> str:
    return _dumps({"type": "unsubscribed", "jobId": job_id})


def replay(job_id: str, page: EventPage) -> str:
    """A ``replay`` batch: the stored JSON spliced in, never re-encoded."""
    data = b",".join(page.bodies).decode()
    more = "true" if page.has_more else "false"
    return f'{{"type":"replay","jobId":{_dumps(job_id)},"data":[{data}],"hasMore":{more}}}'
