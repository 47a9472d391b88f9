"""Job events, one flat class per event type: ``e.type``, ``e.id``, ``e.job_id``,
``e.iteration``, ``e.stage``, ``e.timestamp``, then the payload's fields in snake_case
(``e.score``, ``e.preview``, ``e.mutation_type`` …). ``e.data`` keeps the payload as sent.

An event type this SDK does not know (from a newer server) parses into the base
:class:`Event`, so old clients keep working; so do unknown payload fields (in ``data``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from whetstone.domain.prompt import PromptBody
from whetstone.domain.usage import Usage
from whetstone.sdk.models import Results, parse_body, parse_time

TERMINAL_TYPES = frozenset({"job_complete", "job_failed", "job_cancelled"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Any event; the classes below add the fields of their type."""

    type: str
    id: int
    job_id: str
    iteration: int
    stage: str
    timestamp: datetime | None
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def terminal(self) -> bool:
        """True for ``job_complete``, ``job_failed`` and ``job_cancelled``: the last event."""
        return self.type in TERMINAL_TYPES


@dataclass(frozen=True, slots=True, kw_only=True)
class JobStarted(Event):
    prompt_id: str = ""
    dataset_id: str = ""
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class IterationStart(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class MutationGenerated(Event):
    candidate_id: str = ""
    parent_ids: tuple[str, ...] = ()
    mutation_type: str = ""
    preview: str = ""
    prompt: PromptBody | None = None  # None when the candidate was discarded
    status: str | None = None  # kept | discarded
    repairs: tuple[str, ...] = ()
    violations: tuple[str, ...] = ()
    usage: Usage | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationStart(Event):
    candidate_id: str = ""
    item_count: int = 0
    phase: str | None = None  # baseline | minibatch | full


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationComplete(Event):
    candidate_id: str = ""
    score: float | None = None  # None when ``aborted``
    metrics: dict[str, float] = field(default_factory=dict)
    usage: Usage | None = None
    phase: str | None = None
    item_count: int | None = None
    promoted: bool | None = None
    parent_score: float | None = None
    aborted: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewBest(Event):
    candidate_id: str = ""
    score: float | None = None
    previous_score: float | None = None
    improvement: float | None = None
    prompt: PromptBody | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IterationComplete(Event):
    best_score: float | None = None
    usage: Usage | None = None  # cumulative
    scores: tuple[float, ...] = ()
    best_candidate_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class JobPaused(Event):
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class JobResumed(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class JobComplete(Event):
    results: Results | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class JobFailed(Event):
    error: dict[str, Any] = field(default_factory=dict)  # {code, message}
    will_retry: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class JobCancelled(Event):
    reason: str | None = None


EVENT_CLASSES: dict[str, type[Event]] = {
    "job_started": JobStarted,
    "iteration_start": IterationStart,
    "mutation_generated": MutationGenerated,
    "evaluation_start": EvaluationStart,
    "evaluation_complete": EvaluationComplete,
    "new_best": NewBest,
    "iteration_complete": IterationComplete,
    "job_paused": JobPaused,
    "job_resumed": JobResumed,
    "job_complete": JobComplete,
    "job_failed": JobFailed,
    "job_cancelled": JobCancelled,
}

_BASE_FIELDS = frozenset(f.name for f in dataclasses.fields(Event))


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list | tuple) else ()


def _results(value: Any) -> Results | None:
    return Results.from_wire(value) if isinstance(value, Mapping) else None


def _usage(value: Any) -> Usage | None:
    return Usage.from_wire(dict(value)) if isinstance(value, Mapping) else None


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "usage": _usage,
    "results": _results,
    "prompt": parse_body,
    "parent_ids": _tuple,
    "repairs": _tuple,
    "violations": _tuple,
    "scores": _tuple,
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _payload_fields(cls: type[Event]) -> list[tuple[str, str]]:
    return [(f.name, _camel(f.name)) for f in dataclasses.fields(cls) if f.name not in _BASE_FIELDS]


_CLASSES: list[type[Event]] = [Event, *EVENT_CLASSES.values()]
_FIELDS = {cls: _payload_fields(cls) for cls in _CLASSES}


def parse_event(wire: Mapping[str, Any]) -> Event:
    """An event from its wire form (``event`` and ``replay`` frames, SSE, the REST log)."""
    kind = str(wire.get("eventType", ""))
    cls = EVENT_CLASSES.get(kind, Event)
    data = wire.get("data")
    data = dict(data) if isinstance(data, Mapping) else {}
    payload: dict[str, Any] = {}
    for name, key in _FIELDS[cls]:
        if key in data and data[key] is not None:
            convert = _CONVERT.get(name)
            payload[name] = convert(data[key]) if convert else data[key]
    return cls(
        type=kind,
        id=int(wire["id"]),
        job_id=str(wire.get("jobId", "")),
        iteration=int(wire.get("iteration") or 0),
        stage=str(wire.get("stage", "")),
        timestamp=parse_time(wire.get("timestamp")),
        data=data,
        **payload,
    )


@dataclass(frozen=True, slots=True)
class EventPage:
    """A page of a job's stored event log, after ``after_event_id``."""

    items: tuple[Event, ...]
    head_event_id: int  # the job's last event id
    has_more: bool
    after_event_id: int = 0

    @classmethod
    def from_wire(cls, data: list[Any], meta: Mapping[str, Any]) -> EventPage:
        return cls(
            items=tuple(parse_event(e) for e in data),
            head_event_id=int(meta.get("headEventId") or 0),
            has_more=bool(meta.get("hasMore", False)),
            after_event_id=int(meta.get("afterEventId") or 0),
        )
