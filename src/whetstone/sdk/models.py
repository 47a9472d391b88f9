"""What the REST API returns, as frozen dataclasses with snake_case attributes.

Each model reads its camelCase wire object with ``from_wire``. Fields a newer server adds
are ignored; fields an older one lacks take their default, so a client and a server of
neighbouring versions still understand each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from whetstone.domain.prompt import Message, PromptBody
from whetstone.domain.usage import Usage

T = TypeVar("T")
Wire = Mapping[str, Any]

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})

__all__ = [
    "Dataset",
    "HistoryEntry",
    "Item",
    "Job",
    "Message",
    "Page",
    "Prompt",
    "PromptBody",
    "Results",
    "Usage",
]


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (``…Z``) as an aware datetime; None stays None."""
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def parse_body(value: Any) -> PromptBody | None:
    """A prompt's content (``{template}`` or ``{messages}``), or None."""
    if not isinstance(value, Mapping):
        return None
    if value.get("template") is None and not value.get("messages"):
        return None
    return PromptBody.from_wire(dict(value))


@dataclass(frozen=True, slots=True)
class Health:
    status: str
    version: str | None = None

    @classmethod
    def from_wire(cls, data: Wire) -> Health:
        return cls(str(data.get("status", "")), data.get("version"))


@dataclass(frozen=True, slots=True)
class Prompt:
    """One version of a prompt: exactly one of ``template`` or ``messages``."""

    id: str
    name: str
    version: int
    is_latest: bool
    description: str | None
    template: str | None
    messages: tuple[Message, ...] | None
    variables: tuple[str, ...]
    source: str
    job_id: str | None
    created_at: datetime | None
    tags: tuple[str, ...] = ()

    @property
    def body(self) -> PromptBody:
        return PromptBody(template=self.template, messages=self.messages)

    @classmethod
    def from_wire(cls, data: Wire) -> Prompt:
        messages = data.get("messages")
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            version=int(data.get("version", 1)),
            is_latest=bool(data.get("isLatest", False)),
            description=data.get("description"),
            template=data.get("template"),
            messages=None
            if messages is None
            else tuple(Message(m["role"], m["content"]) for m in messages),
            variables=tuple(data.get("variables") or ()),
            source=str(data.get("source", "user")),
            job_id=data.get("jobId"),
            created_at=parse_time(data.get("createdAt")),
            tags=tuple(data.get("tags") or ()),
        )


@dataclass(frozen=True, slots=True)
class Dataset:
    id: str
    name: str
    description: str | None
    item_count: int
    created_at: datetime | None

    @classmethod
    def from_wire(cls, data: Wire) -> Dataset:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            description=data.get("description"),
            item_count=int(data.get("itemCount", 0)),
            created_at=parse_time(data.get("createdAt")),
        )


@dataclass(frozen=True, slots=True)
class Item:
    """A dataset item. ``expected_output`` is a string or any JSON value."""

    id: str
    input: dict[str, Any]
    expected_output: Any = None
    metadata: dict[str, Any] | None = None

    @classmethod
    def from_wire(cls, data: Wire) -> Item:
        return cls(
            id=str(data["id"]),
            input=dict(data.get("input") or {}),
            expected_output=data.get("expectedOutput"),
            metadata=data.get("metadata"),
        )

    def to_wire(self) -> dict[str, Any]:
        """The item as a new item for ``datasets.create``/``add_items`` (without its id)."""
        return {
            "input": self.input,
            "expectedOutput": self.expected_output,
            "metadata": self.metadata,
        }


@dataclass(frozen=True, slots=True)
class Job:
    """An optimization. ``config`` is the resolved config as the server stores it (camelCase
    keys, every default filled in); it can be passed back to ``optimization.start``."""

    id: str
    status: str
    prompt_id: str
    dataset_id: str
    config: dict[str, Any]
    current_iteration: int
    initial_score: float | None
    current_score: float | None
    best_score: float | None
    result_prompt_id: str | None
    last_event_id: int
    usage: Usage
    error: dict[str, Any] | None
    created_at: datetime | None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    stop_reason: str | None = None
    pending_action: str | None = None
    simulated: bool = False

    @property
    def is_terminal(self) -> bool:
        """True once the job has ended (completed, failed or cancelled)."""
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_wire(cls, data: Wire) -> Job:
        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            prompt_id=str(data.get("promptId", "")),
            dataset_id=str(data.get("datasetId", "")),
            config=dict(data.get("config") or {}),
            current_iteration=int(data.get("currentIteration") or 0),
            initial_score=data.get("initialScore"),
            current_score=data.get("currentScore"),
            best_score=data.get("bestScore"),
            result_prompt_id=data.get("resultPromptId"),
            last_event_id=int(data.get("lastEventId") or 0),
            usage=Usage.from_wire(data.get("usage")),
            error=data.get("error"),
            created_at=parse_time(data.get("createdAt")),
            started_at=parse_time(data.get("startedAt")),
            finished_at=parse_time(data.get("finishedAt")),
            stop_reason=data.get("stopReason"),
            pending_action=data.get("pendingAction"),
            simulated=bool(data.get("simulated", False)),
        )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One iteration of a run: the best score after it and its candidates' scores.
    (``whetstone.domain.results`` has the server's twin; importing it would load pydantic.)"""

    iteration: int
    best_score: float | None
    scores: tuple[float, ...] = ()

    @classmethod
    def from_wire(cls, data: Wire) -> HistoryEntry:
        return cls(int(data["iteration"]), data.get("bestScore"), tuple(data.get("scores") or ()))


@dataclass(frozen=True, slots=True)
class Results:
    """What an ended job found. ``improvement`` is ``final_score - initial_score``."""

    job_id: str
    status: str
    initial_score: float | None
    final_score: float | None
    improvement: float | None
    relative_improvement: float | None
    best_prompt: PromptBody | None
    result_prompt_id: str | None
    iterations: int
    stop_reason: str | None
    history: tuple[HistoryEntry, ...]
    usage: Usage
    simulated: bool = False

    @classmethod
    def from_wire(cls, data: Wire) -> Results:
        return cls(
            job_id=str(data.get("jobId", "")),
            status=str(data.get("status", "")),
            initial_score=data.get("initialScore"),
            final_score=data.get("finalScore"),
            improvement=data.get("improvement"),
            relative_improvement=data.get("relativeImprovement"),
            best_prompt=parse_body(data.get("bestPrompt")),
            result_prompt_id=data.get("resultPromptId"),
            iterations=int(data.get("iterations") or 0),
            stop_reason=data.get("stopReason"),
            history=tuple(HistoryEntry.from_wire(h) for h in data.get("history") or ()),
            usage=Usage.from_wire(data.get("usage")),
            simulated=bool(data.get("simulated", False)),
        )


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list. ``resources.iterate(…)`` methods walk every page for you."""

    items: tuple[T, ...]
    total: int
    limit: int
    offset: int
    has_more: bool

    @classmethod
    def from_wire(cls, data: list[Any], meta: Wire, item: Callable[[Wire], T]) -> Page[T]:
        items = tuple(item(x) for x in data)
        return cls(
            items=items,
            total=int(meta.get("total", len(items))),
            limit=int(meta.get("limit", len(items))),
            offset=int(meta.get("offset", 0)),
            has_more=bool(meta.get("hasMore", False)),
        )
