"""The Python SDK: ``AsyncWhetstone`` (async, written once) and ``Whetstone`` (blocking).

See docs/sdk.md. Everything public is importable from here and from ``whetstone``.
"""

from __future__ import annotations

from whetstone.sdk.backoff import ReconnectPolicy, Timing
from whetstone.sdk.client import AsyncWhetstone
from whetstone.sdk.errors import JobFailedError, WhetstoneConnectionError
from whetstone.sdk.events import (
    EvaluationComplete,
    EvaluationStart,
    Event,
    EventPage,
    IterationComplete,
    IterationStart,
    JobCancelled,
    JobComplete,
    JobFailed,
    JobPaused,
    JobResumed,
    JobStarted,
    MutationGenerated,
    NewBest,
)
from whetstone.sdk.models import (
    Dataset,
    Health,
    HistoryEntry,
    Item,
    Job,
    Message,
    Page,
    Prompt,
    PromptBody,
    Results,
    Usage,
)
from whetstone.sdk.stream import AsyncEventStream
from whetstone.sdk.subscription import AsyncSubscription, ConnectionState
from whetstone.sdk.sync import EventStream, Subscription, Whetstone

__all__ = [
    "AsyncEventStream",
    "AsyncSubscription",
    "AsyncWhetstone",
    "ConnectionState",
    "Dataset",
    "EvaluationComplete",
    "EvaluationStart",
    "Event",
    "EventPage",
    "EventStream",
    "Health",
    "HistoryEntry",
    "Item",
    "IterationComplete",
    "IterationStart",
    "Job",
    "JobCancelled",
    "JobComplete",
    "JobFailed",
    "JobFailedError",
    "JobPaused",
    "JobResumed",
    "JobStarted",
    "Message",
    "MutationGenerated",
    "NewBest",
    "Page",
    "Prompt",
    "PromptBody",
    "ReconnectPolicy",
    "Results",
    "Subscription",
    "Timing",
    "Usage",
    "Whetstone",
    "WhetstoneConnectionError",
]
