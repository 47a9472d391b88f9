"""The one place where event classes meet their wire names and JSON shape."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import orjson
from pydantic.alias_generators import to_camel

from whetstone.domain import events as ev
from whetstone.domain.usage import Usage

EVENT_TYPES: dict[type[Any], str] = {
    ev.JobStarted: "job_started",
    ev.IterationStart: "iteration_start",
    ev.MutationGenerated: "mutation_generated",
    ev.EvaluationStart: "evaluation_start",
    ev.EvaluationComplete: "evaluation_complete",
    ev.NewBest: "new_best",
    ev.IterationComplete: "iteration_complete",
    ev.JobPaused: "job_paused",
    ev.JobResumed: "job_resumed",
    ev.JobComplete: "job_complete",
    ev.JobFailed: "job_failed",
    ev.JobCancelled: "job_cancelled",
}
PAYLOAD_CLASSES: dict[str, type[Any]] = {name: cls for cls, name in EVENT_TYPES.items()}


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, microsecond precision."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def to_wire_value(value: Any) -> Any:
    """Dataclasses become camelCase objects, datetimes ISO strings, enums their value."""
    if isinstance(value, Usage):
        return value.to_wire()
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            to_camel(f.name): to_wire_value(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, dict):
        return {k: to_wire_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire_value(v) for v in value]
    return value


def event_type(payload: ev.EventPayload) -> str:
    return EVENT_TYPES[type(payload)]


def event_to_wire(event: ev.Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "jobId": event.job_id,
        "eventType": event_type(event.payload),
        "iteration": event.iteration,
        "stage": event.stage.value,
        "timestamp": format_timestamp(event.timestamp),
        "data": to_wire_value(event.payload),
    }


def encode_event(event: ev.Event) -> bytes:
    """The event's JSON, encoded once and reused for every reader and subscriber."""
    return orjson.dumps(event_to_wire(event))


def _payload_from_wire(name: str, data: dict[str, Any]) -> ev.EventPayload:
    cls = PAYLOAD_CLASSES.get(name)
    if cls is None:
        raise ValueError(f"unknown event type {name!r}; known: {', '.join(PAYLOAD_CLASSES)}")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = to_camel(f.name)
        if key not in data:
            continue
        value = data[key]
        if f.name == "usage" and value is not None:
            value = Usage.from_wire(value)
        elif f.name == "timestamp" and isinstance(value, str):
            value = parse_timestamp(value)
        kwargs[f.name] = value
    payload: ev.EventPayload = cls(**kwargs)
    return payload


def event_from_wire(obj: dict[str, Any]) -> ev.Event:
    """Decode the wire form (as sent in ``event``, ``replay``, SSE and the REST log)."""
    return ev.Event(
        id=int(obj["id"]),
        job_id=str(obj["jobId"]),
        iteration=int(obj["iteration"]),
        stage=ev.Stage(obj["stage"]),
        timestamp=parse_timestamp(obj["timestamp"]),
        payload=_payload_from_wire(str(obj["eventType"]), dict(obj.get("data") or {})),
    )


def event_frame(job_id: str, body: bytes) -> str:
    """The WebSocket ``event`` frame around an event's JSON."""
    return f'{{"type":"event","jobId":{orjson.dumps(job_id).decode()},"event":{body.decode()}}}'


def sse_frame(event_id: int, event_type_name: str, body: bytes) -> str:
    return f"id: {event_id}\nevent: {event_type_name}\ndata: {body.decode()}\n\n"


class EncodedEvent:
    """A stored event with its wire JSON, encoded once for every reader and subscriber;
    the WebSocket and SSE frames around it are built once too, on first use."""

    __slots__ = ("_sse", "_ws", "body", "event")

    def __init__(self, event: ev.Event, body: bytes | None = None) -> None:
        self.event = event
        self.body = body if body is not None else encode_event(event)
        self._ws: str | None = None
        self._sse: str | None = None

    @property
    def ws_frame(self) -> str:
        if self._ws is None:
            self._ws = event_frame(self.event.job_id, self.body)
        return self._ws

    @property
    def sse(self) -> str:
        if self._sse is None:
            self._sse = sse_frame(self.event.id, event_type(self.event.payload), self.body)
        return self._sse

    @property
    def terminal(self) -> bool:
        return isinstance(self.event.payload, ev.TERMINAL_PAYLOADS)

    @property
    def id(self) -> int:
        return self.event.id

    @property
    def job_id(self) -> str:
        return self.event.job_id
