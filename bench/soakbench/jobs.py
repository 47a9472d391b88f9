"""The jobs kept running: ``Slot``s, each with one active job at a time, and the ``Driver``
that starts them and starts the next one of a slot as soon as its job ends."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from whetstone.samples import load_sample

TERMINAL = frozenset({"job_complete", "job_failed", "job_cancelled"})
SAMPLE = "capitals"  # 20 questions, simulated: every job is a dry run


class Slot:
    """One of the N jobs kept running: the jobs it has run, in order."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.jobs: list[str] = []
        self._closed = False
        self._changed = asyncio.Condition()

    async def add(self, job_id: str) -> None:
        async with self._changed:
            self.jobs.append(job_id)
            self._changed.notify_all()

    async def close(self) -> None:
        """No job will follow: wake whoever waits for one."""
        async with self._changed:
            self._closed = True
            self._changed.notify_all()

    async def next_after(self, job_id: str | None) -> str | None:
        """The slot's job after ``job_id`` (its first if None), once it has been started;
        None once the slot is closed."""
        at = 0 if job_id is None else self.jobs.index(job_id) + 1
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.jobs) > at or self._closed)
        return self.jobs[at] if len(self.jobs) > at else None


@dataclass
class Plan:
    jobs: int
    iterations: int
    sim_latency_ms: int
    candidates: int = 2


@dataclass
class Driver:
    """Starts a job per slot, follows them all on one socket of its own, and replaces each
    one that ends until ``stop()``. A job that fails or is cancelled is an error."""

    http: httpx.AsyncClient
    ws_url: str
    key: str
    plan: Plan
    slots: list[Slot] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started: int = 0
    ended: dict[str, int] = field(default_factory=dict)  # terminal event type -> count
    _body: dict[str, Any] = field(default_factory=dict)
    _slot_of: dict[str, Slot] = field(default_factory=dict)
    _following: set[str] = field(default_factory=set)
    _ws: ClientConnection | None = None
    _stopping: bool = False

    async def setup(self) -> None:
        sample = load_sample(SAMPLE)
        prompt = await self._post(
            "/api/prompts", {"name": "soak", "template": sample["prompt"]["template"]}
        )
        items = sample["dataset"]["items"]
        dataset = await self._post("/api/datasets", {"name": "soak", "items": items})
        self._body = {"promptId": prompt["id"], "datasetId": dataset["id"]}
        self.slots = [Slot(i) for i in range(self.plan.jobs)]

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(path, json=body)
        if response.status_code != 201:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
        data: dict[str, Any] = response.json()["data"]
        return data

    async def _start(self, slot: Slot) -> str:
        config = {
            "maxIterations": self.plan.iterations,
            "candidatesPerIteration": self.plan.candidates,
            "dryRun": True,
            "seed": 1000 * slot.index + len(slot.jobs),
            "tuningParams": {"simLatencyMs": self.plan.sim_latency_ms},
        }
        job = await self._post("/api/optimizations", {**self._body, "config": config})
        self._slot_of[job["id"]] = slot
        self.started += 1
        await slot.add(job["id"])
        return str(job["id"])

    async def stop(self) -> None:
        """No new job from now on (the running ones go on): unsubscribe from them and ask
        for a ``pong``, which comes after every ``unsubscribed``; ``run`` ends with it."""
        self._stopping = True
        for slot in self.slots:
            await slot.close()
        if self._ws is not None:
            for job_id in sorted(self._following):
                await _send(self._ws, {"type": "unsubscribe", "jobId": job_id})
            await _send(self._ws, {"type": "ping"})

    async def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        async with connect(
            self.ws_url, additional_headers=headers, compression=None, proxy=None, max_size=None
        ) as ws:
            self._ws = ws
            for slot in self.slots:
                await self._follow(ws, await self._start(slot))
            async for raw in ws:
                message = orjson.loads(raw)
                kind = message.get("type")
                if kind == "error":
                    self.errors.append(f"driver: {message}")
                elif kind == "pong" and self._stopping:
                    return
                batch = message["data"] if kind == "replay" else [message.get("event")]
                for event in batch if kind in ("replay", "event") else ():
                    if event["eventType"] in TERMINAL:
                        await self._ended(ws, event)

    async def _follow(self, ws: ClientConnection, job_id: str) -> None:
        # afterEventId 0: a job that ends before this subscription starts is still seen end
        self._following.add(job_id)
        await _send(ws, {"type": "subscribe", "jobId": job_id, "afterEventId": 0})

    async def _ended(self, ws: ClientConnection, event: dict[str, Any]) -> None:
        kind = event["eventType"]
        self._following.discard(event["jobId"])
        self.ended[kind] = self.ended.get(kind, 0) + 1
        if kind != "job_complete":
            self.errors.append(f"job {event['jobId']} ended with {kind}: {event['data']}")
        if not self._stopping:
            await self._follow(ws, await self._start(self._slot_of[event["jobId"]]))


async def _send(ws: ClientConnection, command: dict[str, Any]) -> None:
    await ws.send(orjson.dumps(command).decode())
