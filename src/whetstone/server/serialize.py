"""Domain objects to their PROTOCOL.md wire shape, and the success envelopes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from whetstone.domain.codec import format_timestamp
from whetstone.domain.config import is_simulated
from whetstone.domain.dataset import Dataset, Item
from whetstone.domain.job import Job
from whetstone.domain.prompt import Prompt
from whetstone.store.base import Page

T = TypeVar("T")


def _ts(value: Any) -> str | None:
    return format_timestamp(value) if value is not None else None


def prompt(p: Prompt) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "version": p.version,
        "isLatest": p.is_latest,
        "description": p.description,
        "tags": list(p.tags),
        **p.body.to_wire(),
        "variables": p.variables,
        "source": p.source.value,
        "jobId": p.job_id,
        "createdAt": _ts(p.created_at),
    }


def dataset(d: Dataset) -> dict[str, Any]:
    return {
        "id": d.id,
        "name": d.name,
        "description": d.description,
        "itemCount": d.item_count,
        "createdAt": _ts(d.created_at),
    }


def item(i: Item) -> dict[str, Any]:
    return {
        "id": i.id,
        "input": i.input,
        "expectedOutput": i.expected_output,
        "metadata": i.metadata,
    }


def job(j: Job) -> dict[str, Any]:
    return {
        "id": j.id,
        "status": j.status.value,
        "promptId": j.prompt_id,
        "datasetId": j.dataset_id,
        "config": j.config,
        "currentIteration": j.current_iteration,
        "initialScore": j.initial_score,
        "currentScore": j.current_score,
        "bestScore": j.best_score,
        "resultPromptId": j.result_prompt_id,
        "lastEventId": j.last_event_id,
        "usage": j.usage.to_wire(),
        "error": j.error,
        "stopReason": j.stop_reason,
        "pendingAction": j.pending_action.value if j.pending_action else None,
        "simulated": is_simulated(j.config),
        "createdAt": _ts(j.created_at),
        "startedAt": _ts(j.started_at),
        "finishedAt": _ts(j.finished_at),
    }


def one(data: Any, **meta: Any) -> dict[str, Any]:
    return {"data": data, "meta": meta}


def many(items: Iterable[T], to_wire: Callable[[T], Any]) -> dict[str, Any]:
    """A whole (unpaged) list, with the same meta as a page that holds everything."""
    data = [to_wire(x) for x in items]
    meta = {"total": len(data), "limit": len(data), "offset": 0, "hasMore": False}
    return {"data": data, "meta": meta}


def paged(page: Page[T], to_wire: Callable[[T], Any]) -> dict[str, Any]:
    return {
        "data": [to_wire(x) for x in page.items],
        "meta": {
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
            "hasMore": page.has_more,
        },
    }
