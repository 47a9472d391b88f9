"""``client.optimization``: jobs over REST, and their events live (``subscribe``, ``stream``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from whetstone.sdk.backoff import ReconnectPolicy, Timing
from whetstone.sdk.events import Event, EventPage
from whetstone.sdk.http import Http, seg
from whetstone.sdk.links import Link, LinkKind
from whetstone.sdk.models import Job, Page, Results
from whetstone.sdk.resources import iterate_pages
from whetstone.sdk.stream import AsyncEventStream
from whetstone.sdk.subscription import AsyncSubscription, Callback

PATH = "/api/optimizations"


class AsyncOptimization:
    def __init__(
        self,
        http: Http,
        links: Mapping[LinkKind, Link],
        policy: ReconnectPolicy,
        timing: Timing,
    ) -> None:
        self._http = http
        self._links = links
        self._policy = policy
        self._timing = timing
        self._subscriptions: set[AsyncSubscription] = set()

    # -- REST -------------------------------------------------------------------------

    async def start(
        self, prompt_id: str, dataset_id: str, config: Mapping[str, Any] | None = None
    ) -> Job:
        """A new job (status ``queued``). ``config`` keys may be snake_case
        (``max_iterations``) or camelCase (``maxIterations``); nested ones too."""
        body = {"promptId": prompt_id, "datasetId": dataset_id, "config": dict(config or {})}
        return Job.from_wire((await self._http.post(PATH, body)).data)

    async def list(
        self, *, status: str | None = None, limit: int | None = None, offset: int | None = None
    ) -> Page[Job]:
        """Jobs, newest first; ``status`` filters by one status."""
        answer = await self._http.get(PATH, status=status, limit=limit, offset=offset)
        return Page.from_wire(answer.data, answer.meta, Job.from_wire)

    def iterate(self, *, status: str | None = None, page_size: int = 100) -> AsyncIterator[Job]:
        return iterate_pages(lambda n, o: self.list(status=status, limit=n, offset=o), page_size)

    async def get(self, job_id: str) -> Job:
        return Job.from_wire((await self._http.get(f"{PATH}/{seg(job_id)}")).data)

    async def pause(self, job_id: str, *, reason: str | None = None) -> Job:
        """Pause a running job (``InvalidTransition`` unless running). The answer may still
        say ``running`` with ``pending_action == "pause"``; ``job_paused`` follows."""
        return await self._act(job_id, "pause", reason)

    async def resume(self, job_id: str) -> Job:
        return await self._act(job_id, "resume", None)

    async def cancel(self, job_id: str, *, reason: str | None = None) -> Job:
        return await self._act(job_id, "cancel", reason)

    async def _act(self, job_id: str, action: str, reason: str | None) -> Job:
        body = {"reason": reason} if reason is not None else None
        return Job.from_wire((await self._http.post(f"{PATH}/{seg(job_id)}/{action}", body)).data)

    async def results(self, job_id: str) -> Results:
        """What the job found; ``InvalidTransition`` until it has ended."""
        return Results.from_wire((await self._http.get(f"{PATH}/{seg(job_id)}/results")).data)

    async def events(
        self, job_id: str, *, after_event_id: int = 0, limit: int | None = None
    ) -> EventPage:
        """The stored events after ``after_event_id`` (one page, at most ``limit``)."""
        answer = await self._http.get(
            f"{PATH}/{seg(job_id)}/events", afterEventId=after_event_id, limit=limit
        )
        return EventPage.from_wire(answer.data, answer.meta)

    async def iterate_events(
        self, job_id: str, *, after_event_id: int = 0, page_size: int = 500
    ) -> AsyncIterator[Event]:
        """Every stored event after ``after_event_id``, a page at a time (no live ones)."""
        while True:
            page = await self.events(job_id, after_event_id=after_event_id, limit=page_size)
            for event in page.items:
                yield event
            if not page.has_more or not page.items:
                return
            after_event_id = page.items[-1].id

    # -- live -------------------------------------------------------------------------

    def subscribe(
        self,
        job_id: str,
        on_event: Callback,
        on_complete: Callback | None = None,
        on_error: Callback | None = None,
        on_connection_change: Callback | None = None,
        *,
        after_event_id: int | None = None,
        transport: LinkKind = "websocket",
    ) -> AsyncSubscription:
        """Follow a job's events as they happen; see :class:`AsyncSubscription`.

        ``after_event_id``: replay the stored events after this id first (0: the whole
        job); None: only what happens from now on. Callbacks may be plain functions or
        coroutine functions. ``transport``: ``"websocket"`` or ``"sse"``. Needs a running
        event loop; the subscription starts at once (``await`` it, or not)."""
        if transport not in self._links:
            raise ValueError(f"unknown transport {transport!r}; one of: {', '.join(self._links)}")
        sub = AsyncSubscription(
            job_id,
            link=self._links[transport],
            log_reader=self,
            policy=self._policy,
            timing=self._timing,
            on_event=on_event,
            on_complete=on_complete,
            on_error=on_error,
            on_connection_change=on_connection_change,
            after_event_id=after_event_id,
        )
        self._subscriptions.add(sub)
        sub.add_done_callback(self._subscriptions.discard)
        return sub

    def stream(
        self,
        job_id: str,
        *,
        after_event_id: int | None = None,
        transport: LinkKind = "websocket",
    ) -> AsyncEventStream:
        """``async for event in …``: the job's events until its terminal one; see
        :class:`AsyncEventStream`. ``after_event_id`` as in :meth:`subscribe`."""
        return AsyncEventStream(
            lambda on_event, on_complete, on_error: self.subscribe(
                job_id,
                on_event,
                on_complete,
                on_error,
                after_event_id=after_event_id,
                transport=transport,
            )
        )

    async def aclose(self) -> None:
        """Unsubscribe every subscription still open."""
        for sub in list(self._subscriptions):
            await sub.aclose()
