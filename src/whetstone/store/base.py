"""The ``Store`` protocol: the source of truth for every object and for event replay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from whetstone.domain.codec import EncodedEvent
from whetstone.domain.dataset import Dataset, Item, NewItem
from whetstone.domain.events import PendingEvent
from whetstone.domain.job import ApiKey, Job, Progress, Workspace
from whetstone.domain.prompt import Prompt, PromptBody, PromptSource
from whetstone.domain.status import JobAction, JobStatus
from whetstone.providers.cache import ResponseCache

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True, slots=True)
class EventPage:
    """Stored events after an id, as the encoded JSON each was written with."""

    bodies: list[bytes]
    head_event_id: int
    has_more: bool
    ids: list[int] = field(default_factory=list)
    types: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    step: int
    state: dict[str, Any]
    summary: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JobUpdate:
    """What changes on a job together with the events written beside it (one transaction)."""

    status: JobStatus | None = None
    progress: Progress | None = None
    checkpoint: Checkpoint | None = None
    error: dict[str, Any] | None = None
    stop_reason: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    running_ms: int | None = None
    clear_lease: bool = False
    clear_pending: bool = False
    result_prompt: PromptBody | None = None
    result_prompt_id: str | None = None


class KeyStore(Protocol):
    async def ensure_workspace(self, name: str) -> Workspace: ...
    async def create_key(
        self, workspace_id: str, name: str | None = None
    ) -> tuple[ApiKey, str]: ...
    async def authenticate(self, secret: str) -> ApiKey | None: ...


class PromptStore(Protocol):
    async def create(
        self,
        workspace_id: str,
        name: str,
        body: PromptBody,
        description: str | None = None,
        tags: list[str] | None = None,
    ) -> Prompt: ...
    async def add_version(
        self,
        workspace_id: str,
        prompt_id: str,
        body: PromptBody,
        description: str | None = None,
        source: PromptSource = PromptSource.USER,
        job_id: str | None = None,
    ) -> Prompt: ...
    async def get(self, workspace_id: str, prompt_id: str) -> Prompt: ...
    async def page(
        self, workspace_id: str, *, name: str | None, limit: int, offset: int
    ) -> Page[Prompt]: ...
    async def versions(self, workspace_id: str, prompt_id: str) -> list[Prompt]: ...


class DatasetStore(Protocol):
    async def create(
        self, workspace_id: str, name: str, description: str | None, items: list[NewItem]
    ) -> Dataset: ...
    async def add_items(self, workspace_id: str, dataset_id: str, items: list[NewItem]) -> int: ...
    async def get(self, workspace_id: str, dataset_id: str) -> Dataset: ...
    async def page(self, workspace_id: str, *, limit: int, offset: int) -> Page[Dataset]: ...
    async def items(
        self, workspace_id: str, dataset_id: str, *, limit: int, offset: int
    ) -> Page[Item]: ...
    async def has_expected_outputs(self, dataset_id: str) -> bool: ...
    async def items_at(self, dataset_id: str, positions: list[int]) -> list[Item]: ...


class JobStore(Protocol):
    async def create(
        self, workspace_id: str, prompt_id: str, dataset_id: str, config: dict[str, Any]
    ) -> Job: ...
    async def get(self, workspace_id: str, job_id: str) -> Job: ...
    async def get_any(self, job_id: str) -> Job: ...
    async def page(
        self, workspace_id: str, *, status: JobStatus | None, limit: int, offset: int
    ) -> Page[Job]: ...
    async def request(
        self, workspace_id: str, job_id: str, action: JobAction, reason: str | None
    ) -> Job: ...
    async def claim(self, owner: str, now: datetime, lease_until: datetime) -> Job | None: ...
    async def renew(self, job_id: str, owner: str, lease_until: datetime) -> bool: ...
    async def release_owned(self, owner_prefix: str) -> int: ...
    async def checkpoint(self, job_id: str) -> Checkpoint | None: ...
    async def write(
        self,
        job_id: str,
        events: list[PendingEvent],
        update: JobUpdate,
        *,
        owner: str | None = None,
        expect_status: frozenset[JobStatus] | None = None,
        unleased: bool = False,
    ) -> list[EncodedEvent]: ...


class EventLog(Protocol):
    async def after(self, job_id: str, after_id: int, limit: int) -> EventPage: ...


class Store(Protocol):
    @property
    def keys(self) -> KeyStore: ...
    @property
    def prompts(self) -> PromptStore: ...
    @property
    def datasets(self) -> DatasetStore: ...
    @property
    def jobs(self) -> JobStore: ...
    @property
    def events(self) -> EventLog: ...
    @property
    def cache(self) -> ResponseCache: ...

    async def start(self) -> None:
        """Create or migrate the schema."""
        ...

    async def close(self) -> None: ...
