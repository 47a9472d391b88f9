"""The subscribers: raw ``websockets`` clients, each following the jobs of one slot in turn
from their first event, checking ids and timing live events."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

from soakbench.jobs import TERMINAL, Slot

# Its timestamp is taken as the step starts, before the step's model calls, and the event
# is written with the others when the step ends: its age is the step's length, not delivery.
UNTIMED = frozenset({"iteration_start"})


@dataclass
class Tally:
    """What every subscriber saw, summed (one event loop: no locking)."""

    delivered: int = 0
    live: int = 0
    replayed: int = 0
    gaps: int = 0
    duplicates: int = 0
    jobs_followed: int = 0
    jobs_seen_to_the_end: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)  # by event type


class Follower:
    """One subscriber: one socket, authenticated by header (even index) or by a first
    ``auth`` message (odd), subscribed to its slot's job with ``afterEventId`` 0; at that
    job's terminal event it subscribes to the slot's next job on the same socket."""

    def __init__(self, index: int, slot: Slot, ws_url: str, key: str, tally: Tally) -> None:
        self.index = index
        self.slot = slot
        self._url = ws_url
        self._key = key
        self._tally = tally
        self.connected = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._job: str | None = None  # the job it is subscribed to
        self._leaving = False

    async def run(self, gate: asyncio.Semaphore) -> None:
        try:
            await self._run(gate)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._tally.errors.append(f"subscriber {self.index}: {exc!r}")

    async def _run(self, gate: asyncio.Semaphore) -> None:
        header = self.index % 2 == 0
        headers = {"Authorization": f"Bearer {self._key}"} if header else None
        async with gate:
            ws = await connect(
                self._url,
                additional_headers=headers,
                compression=None,
                proxy=None,
                max_size=None,
                open_timeout=60,
            )
            if not header:
                await ws.send(orjson.dumps({"type": "auth", "token": self._key}).decode())
            reply = orjson.loads(await ws.recv())
            if reply.get("type") != "authenticated":
                raise RuntimeError(f"not authenticated: {reply}")
        self._ws = ws
        self.connected.set()
        async with ws:
            job_id = await self.slot.next_after(None)
            while job_id is not None and not self._leaving:
                self._job = job_id
                await self._follow(ws, job_id)
                self._job = None
                job_id = await self.slot.next_after(job_id)

    async def leave(self) -> None:
        """Unsubscribe, so that the server has stopped sending when the socket closes: then
        ``run`` ends (at ``unsubscribed``, or at once if it waits for the slot's next job,
        which the closed slot says will not come)."""
        self._leaving = True
        if self._ws is not None and self._job is not None:
            command = {"type": "unsubscribe", "jobId": self._job}
            await self._ws.send(orjson.dumps(command).decode())

    async def _follow(self, ws: ClientConnection, job_id: str) -> None:
        """The job's events from id 1 to its terminal one, each checked once."""
        tally = self._tally
        tally.jobs_followed += 1
        command = {"type": "subscribe", "jobId": job_id, "afterEventId": 0}
        await ws.send(orjson.dumps(command).decode())
        expected = 1
        async for raw in ws:
            now = time.time()
            message = orjson.loads(raw)
            kind = message.get("type")
            if kind == "event":
                events, live = [message["event"]], True
            elif kind == "replay":
                events, live = message["data"], False
            else:
                if kind == "error":
                    tally.errors.append(f"subscriber {self.index}: {message}")
                if kind == "unsubscribed" and message["jobId"] == job_id:
                    return
                continue  # subscribed, heartbeat
            for event in events:
                if event["jobId"] != job_id:
                    tally.errors.append(f"subscriber {self.index}: an event of {event['jobId']}")
                    continue
                if event["id"] < expected:
                    tally.duplicates += 1
                    continue
                tally.gaps += event["id"] - expected
                expected = event["id"] + 1
                self._count(event, live, now)
                if event["eventType"] in TERMINAL:
                    tally.jobs_seen_to_the_end += 1
                    if not self._leaving:  # else the unsubscribe's answer is on its way
                        return
        raise RuntimeError(f"the server closed the socket (code {ws.close_code})")

    def _count(self, event: dict[str, Any], live: bool, now: float) -> None:
        tally = self._tally
        tally.delivered += 1
        if not live:
            tally.replayed += 1
            return
        tally.live += 1
        published = datetime.fromisoformat(event["timestamp"]).timestamp()
        tally.latencies_ms.setdefault(event["eventType"], []).append((now - published) * 1000)
