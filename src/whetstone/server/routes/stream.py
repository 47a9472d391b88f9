"""Live events over SSE: ``GET /api/optimizations/{id}/stream`` (the WebSocket
``/ws/optimization`` is served by ``ws/session.py`` ahead of the routing)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from whetstone.bus.base import SubscriberEvicted
from whetstone.domain.codec import EncodedEvent, sse_frame
from whetstone.errors import InvalidRequest
from whetstone.server.deps import Key, Svc
from whetstone.server.schemas import MAX_INT
from whetstone.server.services import Services
from whetstone.server.streaming import JobStream, Stored
from whetstone.store.base import EventPage

router = APIRouter(tags=["streaming"])


def _resume_from(last_event_id: str | None, after_event_id: int | None) -> int | None:
    if last_event_id is None:
        return after_event_id
    text = last_event_id.strip()
    # ASCII digits only: str.isdigit() also takes '²', which int() refuses (was a 500)
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_INT:
        raise InvalidRequest(
            "Last-Event-ID must be the id of the last event you processed (a whole number)",
            details={"Last-Event-ID": last_event_id},
        )
    return int(text)


def _frames(page: EventPage) -> str:
    return "".join(
        sse_frame(i, kind, body)
        for i, kind, body in zip(page.ids, page.types, page.bodies, strict=True)
    )


async def _sse(svc: Services, job_id: str, after: int | None) -> AsyncIterator[str]:
    interval = svc.settings.sse_heartbeat_seconds
    async with JobStream(svc.store, svc.bus, job_id, after) as stream:
        yield f"retry: 2000\n: subscribed, head {stream.head}\n\n"
        async for page in stream.replay():
            yield _frames(page)
        live = stream.live()
        next_item: asyncio.Future[EncodedEvent | Stored] | None = None
        try:
            while not stream.finished:
                # Wait for the next event without cancelling it on a heartbeat:
                # cancelling would close the live generator for good.
                next_item = asyncio.ensure_future(anext(live))
                while not next_item.done():
                    await asyncio.wait({next_item}, timeout=interval)
                    if not next_item.done():
                        yield ": heartbeat\n\n"
                try:
                    item = next_item.result()
                except (StopAsyncIteration, SubscriberEvicted):
                    return  # ended, or too slow: the client reconnects with Last-Event-ID
                yield _frames(item.page) if isinstance(item, Stored) else item.sse
        finally:  # the client may go away while we wait
            if next_item is not None and not next_item.done():
                next_item.cancel()
            with contextlib.suppress(Exception):
                await live.aclose()  # type: ignore[attr-defined]


@router.get(
    "/api/optimizations/{job_id}/stream",
    summary="Server-sent events: stored events after Last-Event-ID / afterEventId, then live",
    response_class=StreamingResponse,
    responses={200: {"description": "the event stream", "content": {"text/event-stream": {}}}},
)
async def stream(
    job_id: str,
    svc: Svc,
    key: Key,
    after_event_id: Annotated[int | None, Query(alias="afterEventId", ge=0, le=MAX_INT)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    await svc.store.jobs.get(key.workspace_id, job_id)
    after = _resume_from(last_event_id, after_event_id)
    return StreamingResponse(
        _sse(svc, job_id, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
