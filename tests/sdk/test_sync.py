"""``Whetstone``, the blocking wrapper: it runs the async client on its own loop, so it works
from a thread and from code already inside an event loop (a notebook). The scripted
WebSocket server runs on the test's loop, so blocking code that talks to it runs in a
worker thread (``asyncio.to_thread``)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from tests.sdk.fakes import JOB, Conn, FakeRest, fake_ws, fast_timing
from whetstone.errors import NotFound
from whetstone.sdk import Event, ReconnectPolicy, Results, Whetstone


def blocking_client(url: str, rest: FakeRest | None = None) -> Whetstone:
    return Whetstone(
        url,
        "wst_test",
        transport=httpx.MockTransport(rest or FakeRest()),
        reconnect=ReconnectPolicy(max_attempts=3),
        timing=fast_timing([]),
        trust_env=False,
    )


def prompt_wire(n: int) -> dict[str, Any]:
    return {"id": f"prm_{n}", "name": f"p{n}", "version": 1, "template": "Hi {name}"}


async def test_it_works_inside_a_running_event_loop() -> None:
    asyncio.get_running_loop()  # as in a notebook cell

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/prompts/prm_gone":
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "gone"}})
        return httpx.Response(201, json={"data": prompt_wire(1), "meta": {}})

    with Whetstone("http://whetstone.test", "k", transport=httpx.MockTransport(handler)) as client:
        prompt = client.prompts.create("p1", template="Hi {name}")
        assert prompt.id == "prm_1"
        assert prompt.variables == ()
        with pytest.raises(NotFound, match="gone"):
            client.prompts.get("prm_gone")
    with pytest.raises(RuntimeError, match="closed"):
        client.prompts.get("prm_1")
    client.close()  # closing twice is harmless


async def test_auto_paging_iterators_block_too() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        rows = [prompt_wire(n) for n in range(offset, min(offset + limit, 5))]
        meta = {"total": 5, "limit": limit, "offset": offset, "hasMore": offset + limit < 5}
        return httpx.Response(200, json={"data": rows, "meta": meta})

    with Whetstone("http://whetstone.test", "k", transport=httpx.MockTransport(handler)) as client:
        assert [p.id for p in client.prompts.iterate(page_size=2)] == [f"prm_{n}" for n in range(5)]
        page = client.prompts.list(limit=2, offset=4)
        assert (page.total, page.offset, page.has_more, len(page.items)) == (5, 4, False, 1)


async def test_subscribe_runs_callbacks_in_order_on_a_thread_that_may_use_the_client() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.events(1, 2, 3, 4, last="job_complete")
        await conn.idle()

    def follow(url: str) -> tuple[list[Any], list[str], Results | None]:
        seen: list[Any] = []
        threads: list[str] = []
        with blocking_client(url) as client:

            def on_event(event: Event) -> None:
                threads.append(threading.current_thread().name)
                seen.append(event.id)
                seen.append(client.optimization.get(JOB).status)  # the blocking client, inside

            sub = client.optimization.subscribe(
                JOB, on_event, on_complete=seen.append, after_event_id=0
            )
            results = sub.wait(timeout=10)
            assert sub.done
            assert sub.state == "closed"
            assert sub.last_event_id == 4
        return seen, threads, results

    async with fake_ws(script) as ws:
        seen, threads, results = await asyncio.to_thread(follow, ws.url)
    assert seen[:-1] == [1, "running", 2, "running", 3, "running", 4, "running"]
    assert seen[-1] == results
    assert results is not None
    assert threading.current_thread().name not in threads
    assert "whetstone-sdk" not in threads  # not on the client's loop either


async def test_wait_inside_a_callback_is_refused() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.events(1, 2)
        await conn.idle()

    def follow(url: str) -> None:
        ready = threading.Event()  # ``sub`` is assigned

        def on_event(event: Event) -> None:
            assert ready.wait(10)
            sub.wait()

        with blocking_client(url) as client:
            sub = client.optimization.subscribe(JOB, on_event, after_event_id=0)
            ready.set()
            with pytest.raises(RuntimeError, match="wait for itself"):
                sub.wait(timeout=10)

    async with fake_ws(script) as ws:
        await asyncio.to_thread(follow, ws.url)


async def test_unsubscribe_inside_a_callback_stops_delivery() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.events(1, 2, 3)
        await conn.idle()

    def follow(url: str) -> list[int]:
        seen: list[int] = []
        ready = threading.Event()  # ``sub`` is assigned
        with blocking_client(url) as client:

            def on_event(event: Event) -> None:
                assert ready.wait(10)
                seen.append(event.id)
                sub.unsubscribe()

            with client.optimization.subscribe(JOB, on_event, after_event_id=0) as sub:
                ready.set()
                assert sub.wait(timeout=10) is None
        return seen

    async with fake_ws(script) as ws:
        assert await asyncio.to_thread(follow, ws.url) == [1]


async def test_stream_is_a_plain_iterator() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.replay(1, 2)
        await conn.events(3, last="job_complete")
        await conn.idle()

    def read(url: str) -> tuple[list[int], int | None]:
        with (
            blocking_client(url) as client,
            client.optimization.stream(JOB, after_event_id=0) as stream,
        ):
            return [e.id for e in stream], stream.last_event_id

    async with fake_ws(script) as ws:
        assert await asyncio.to_thread(read, ws.url) == ([1, 2, 3], 3)
