"""Helpers for the streaming tests: a feed that writes a job's events to the store and then
publishes them, as the runner does; jobs to stream; checks on event sequences. The clients
are in ``clients.py``. Every wait is bounded by ``TIMEOUT``."""

from __future__ import annotations

import random
from typing import Any

import orjson

from tests.support.api import Api
from whetstone.bus.memory import InProcessEventBus
from whetstone.clock import new_id
from whetstone.domain.codec import EncodedEvent
from whetstone.domain.events import (
    EventPayload,
    IterationStart,
    JobComplete,
    MutationGenerated,
    PendingEvent,
)
from whetstone.domain.status import JobStatus
from whetstone.samples import load_sample
from whetstone.server.services import Services
from whetstone.store.base import JobUpdate

TIMEOUT = 10.0  # the bound on any single wait; a healthy run needs a fraction of it
EVENT_FIELDS = {"id", "jobId", "eventType", "iteration", "stage", "timestamp", "data"}
TERMINAL = {"job_complete", "job_failed", "job_cancelled"}

Frame = dict[str, Any]


def ids(events: list[Frame]) -> list[int]:
    return [int(e["id"]) for e in events]


def assert_contiguous(events: list[Frame], first: int, last: int, job_id: str) -> None:
    """Exactly ``first..last``, in order, once each, all of ``job_id``, each a full Event."""
    assert ids(events) == list(range(first, last + 1)), ids(events)
    for event in events:
        assert event.keys() >= EVENT_FIELDS, event
        assert event["jobId"] == job_id, event


def memory_bus(services: Services) -> InProcessEventBus:
    """The in-process bus, whose ``subscriber_count`` shows who is registered."""
    assert isinstance(services.bus, InProcessEventBus)
    return services.bus


async def stored(services: Services, job_id: str) -> list[Frame]:
    """The job's whole event log, straight from the store."""
    page = await services.store.events.after(job_id, 0, 10_000)
    return [orjson.loads(body) for body in page.bodies]


def events_in(frames: list[Frame], job_id: str) -> list[Frame]:
    """The events of ``job_id`` carried by ``replay`` and ``event`` frames, in order."""
    out: list[Frame] = []
    for frame in frames:
        if frame.get("jobId") != job_id:
            continue
        if frame["type"] == "replay":
            out.extend(frame["data"])
        elif frame["type"] == "event":
            out.append(frame["event"])
    return out


# -- feeding events -------------------------------------------------------------------------


class Feed:
    """Writes one job's events through the store, then (unless told not to) publishes them:
    the runner's order, without a runner, so a test decides every id."""

    def __init__(self, services: Services, job_id: str) -> None:
        self.services = services
        self.job_id = job_id
        self.iteration = 0
        self._rng = random.Random(job_id)

    def _pending(self, payload: EventPayload) -> PendingEvent:
        now = self.services.clock.now()
        return PendingEvent.of(payload, iteration=self.iteration, timestamp=now)

    def _payload(self, size: int) -> EventPayload:
        self.iteration += 1
        if not size:
            return IterationStart(self.iteration, self.services.clock.now())
        text = self._rng.randbytes(size // 2).hex()  # random: compression saves at most half
        candidate = f"cand_{self.iteration}"
        return MutationGenerated(candidate, ["baseline"], "rephrase", text[:200], text)

    async def write(
        self, count: int = 1, *, publish: bool = True, size: int = 0
    ) -> list[EncodedEvent]:
        events = [self._pending(self._payload(size)) for _ in range(count)]
        written = await self.services.store.jobs.write(self.job_id, events, JobUpdate())
        if publish:
            await self.services.bus.publish(self.job_id, written)
        return written

    async def publish(self, events: list[EncodedEvent]) -> None:
        await self.services.bus.publish(self.job_id, events)

    async def finish(self, *, publish: bool = True) -> EncodedEvent:
        """The terminal ``job_complete``, with the job marked completed in the same write."""
        done = self._pending(JobComplete({"jobId": self.job_id, "status": "completed"}))
        update = JobUpdate(status=JobStatus.COMPLETED, finished_at=self.services.clock.now())
        (written,) = await self.services.store.jobs.write(self.job_id, [done], update)
        if publish:
            await self.services.bus.publish(self.job_id, [written])
        return written


async def new_job(api: Api, config: dict[str, Any] | None = None) -> str:
    """A queued job of ``api``'s workspace, its prompt and dataset uniquely named (so a test
    may create many)."""
    name = new_id("stream", 4)
    prompt = await api.prompt(name=name)
    dataset = await api.dataset(name=name)
    body = {
        "promptId": prompt["id"],
        "datasetId": dataset["id"],
        "config": config or {"maxIterations": 3, "dryRun": True},
    }
    job: dict[str, Any] = (await api.call("POST", "/api/optimizations", 201, json=body))["data"]
    return str(job["id"])


async def sim_job(api: Api, latency_ms: int = 5, **config: Any) -> str:
    """A simulator job of the ``capitals`` sample (3 iterations, about 40 events unless
    ``config`` says otherwise), each simulated call ``latency_ms`` long."""
    sample = load_sample("capitals")
    name = new_id("capitals", 4)
    prompt_body = {**sample["prompt"], "name": name}
    prompt = (await api.call("POST", "/api/prompts", 201, json=prompt_body))["data"]
    dataset_body = {**sample["dataset"], "name": name}
    dataset = (await api.call("POST", "/api/datasets", 201, json=dataset_body))["data"]
    body = {
        "promptId": prompt["id"],
        "datasetId": dataset["id"],
        "config": {
            **sample["config"],
            "maxIterations": 3,
            "dryRun": True,
            "seed": 7,
            "tuningParams": {"simLatencyMs": latency_ms},
            **config,
        },
    }
    job: dict[str, Any] = (await api.call("POST", "/api/optimizations", 201, json=body))["data"]
    return str(job["id"])
