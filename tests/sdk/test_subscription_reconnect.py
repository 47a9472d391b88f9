"""Reconnection: backoff with full jitter, resubscribing after the last delivered id, what is
fatal and what is not, silence, 4408, ``reconnect()``, live-only subscriptions. Delays are
recorded by an injected sleep, so nothing here waits for real except the silence test's
tiny timeout."""

from __future__ import annotations

import random

import pytest

from tests.sdk.fakes import JOB, Conn, FakeRest, fake_ws, sdk, wire_event
from tests.sdk.support import Recorder
from tests.support.live import free_port
from whetstone.errors import NotFound, Unauthorized
from whetstone.sdk import AsyncWhetstone, ReconnectPolicy, Timing, WhetstoneConnectionError


def expected_delays(seed: int, caps: list[float]) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(0, cap) for cap in caps]


async def test_a_dropped_link_resubscribes_after_the_last_delivered_id() -> None:
    async def script(conn: Conn) -> None:
        frame = await conn.handshake()
        if conn.number == 1:
            await conn.events(1, 2, 3)
            await conn.ws.close(1011, "server going away")
            return
        assert frame["afterEventId"] == 3
        await conn.replay(2, 3, 4)  # the client dedups whatever a server resends
        await conn.events(5, last="job_complete")
        await conn.idle()

    rec, delays = Recorder(), list[float]()
    async with fake_ws(script) as ws, sdk(ws.url, delays=delays) as client:
        await client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks()).wait()
        await rec.closed()
    assert rec.ids == [1, 2, 3, 4, 5]
    assert len(rec.results) == 1
    assert rec.states == ["connecting", "connected", "reconnecting", "connected", "closed"]
    assert delays == expected_delays(7, [0.5])
    assert [f["afterEventId"] for f in ws.subscribes] == [0, 3]


async def test_backoff_doubles_with_full_jitter_then_gives_up() -> None:
    port = free_port()  # nothing listens: every attempt is refused at once
    delays: list[float] = []
    policy = ReconnectPolicy(max_attempts=8)
    rec = Recorder()
    async with AsyncWhetstone(
        f"http://127.0.0.1:{port}",
        "wst_test",
        reconnect=policy,
        timing=Timing(sleep=lambda s: _note(delays, s), rng=random.Random(42)),
        trust_env=False,
    ) as client:
        sub = client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks())
        with pytest.raises(WhetstoneConnectionError) as caught:
            await sub.wait()
        await rec.closed()
    assert delays == expected_delays(42, [0.5, 1, 2, 4, 8, 16, 20, 20])
    assert rec.errors == [caught.value]
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "8 failed attempts" in str(caught.value)
    assert "whetstone serve" in str(caught.value.__cause__)
    assert rec.states == ["connecting", "reconnecting", "closed"]


async def _note(delays: list[float], seconds: float) -> None:
    delays.append(seconds)


async def test_a_stable_connection_resets_the_backoff() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        if conn.number < 4:
            await conn.ws.close(1011)
            return
        await conn.events(1, last="job_complete")
        await conn.idle()

    # The clock is read when a connection opens and when it is lost: the second connection
    # stays up a minute, the others no time at all.
    readings = iter([0.0, 0.0, 0.0, 60.0, 60.0, 60.0, 60.0])
    delays: list[float] = []
    timing = Timing(
        clock=lambda: next(readings), sleep=lambda s: _note(delays, s), rng=random.Random(3)
    )
    async with fake_ws(script) as ws:
        client = AsyncWhetstone(ws.url, "wst_test", timing=timing, trust_env=False)
        async with client:
            await client.optimization.subscribe(JOB, lambda e: None, after_event_id=0).wait()
    # failures in a row: 1 (cap 0.5); reset by the stable one, 1 again; then 2 (cap 1)
    assert delays == expected_delays(3, [0.5, 0.5, 1.0])


@pytest.mark.parametrize("how", ["close 4401", "error frame"])
async def test_unauthorized_is_fatal(how: str) -> None:
    async def script(conn: Conn) -> None:
        await conn.send({"type": "error", "code": "unauthorized", "error": "invalid API key"})
        if how == "close 4401":
            await conn.ws.close(4401, "unauthorized")
        await conn.idle()

    rec, delays = Recorder(), list[float]()
    async with fake_ws(script) as ws, sdk(ws.url, delays=delays) as client:
        sub = client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks())
        with pytest.raises(Unauthorized):
            await sub.wait()
        await rec.closed()
    assert ws.connections == 1
    assert delays == []
    assert [type(e) for e in rec.errors] == [Unauthorized]
    assert rec.states == ["connecting", "closed"]


async def test_an_unknown_job_is_fatal() -> None:
    async def script(conn: Conn) -> None:
        await conn.send({"type": "authenticated"})
        await conn.ws.recv()
        frame = {"type": "error", "code": "not_found", "error": "not found", "jobId": JOB}
        await conn.send(frame)
        await conn.idle()

    rec, delays = Recorder(), list[float]()
    async with fake_ws(script) as ws, sdk(ws.url, delays=delays) as client:
        sub = client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks())
        with pytest.raises(NotFound):
            await sub.wait()
    assert ws.connections == 1
    assert delays == []


async def test_no_key_is_fatal_without_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WHETSTONE_API_KEY", raising=False)

    async def script(conn: Conn) -> None:
        raise AssertionError("no connection expected")

    async with fake_ws(script) as ws, sdk(ws.url, key=None) as client:
        sub = client.optimization.subscribe(JOB, lambda e: None, after_event_id=0)
        with pytest.raises(Unauthorized, match="WHETSTONE_API_KEY"):
            await sub.wait()
    assert ws.connections == 0


async def test_silence_past_the_heartbeat_timeout_reconnects() -> None:
    async def script(conn: Conn) -> None:
        frame = await conn.handshake()
        if conn.number == 1:
            await conn.events(1)
            await conn.idle()  # then nothing at all, not even a heartbeat
            return
        assert frame["afterEventId"] == 1
        await conn.events(2, last="job_complete")
        await conn.idle()

    rec, delays = Recorder(), list[float]()
    policy = ReconnectPolicy(heartbeat_timeout=0.2)
    async with fake_ws(script) as ws, sdk(ws.url, delays=delays, policy=policy) as client:
        await client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks()).wait()
    assert rec.ids == [1, 2]
    assert ws.connections == 2
    assert "reconnecting" in rec.states
    assert len(delays) == 1


async def test_heartbeats_keep_a_quiet_link_alive() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        for _ in range(5):  # each heartbeat comes within the timeout of the one before
            await conn.send({"type": "heartbeat"})
        await conn.events(1, last="job_complete")
        await conn.idle()

    policy = ReconnectPolicy(heartbeat_timeout=5)
    async with fake_ws(script) as ws, sdk(ws.url, policy=policy) as client:
        await client.optimization.subscribe(JOB, lambda e: None, after_event_id=0).wait()
    assert ws.connections == 1


async def test_too_slow_4408_resubscribes_at_once() -> None:
    async def script(conn: Conn) -> None:
        frame = await conn.handshake()
        if conn.number == 1:
            await conn.events(1, 2)
            await conn.ws.close(4408, "too slow: resubscribe with afterEventId = your last id")
            return
        assert frame["afterEventId"] == 2
        await conn.events(3, last="job_complete")
        await conn.idle()

    rec, delays = Recorder(), list[float]()
    async with fake_ws(script) as ws, sdk(ws.url, delays=delays) as client:
        await client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks()).wait()
    assert rec.ids == [1, 2, 3]
    assert delays == []  # no backoff
    assert ws.connections == 2


async def test_reconnect_drops_the_link_and_resubscribes_at_once() -> None:
    async def script(conn: Conn) -> None:
        frame = await conn.handshake()
        if conn.number == 1:
            await conn.events(1)
            await conn.idle()
            return
        assert frame["afterEventId"] == 1
        await conn.events(2, last="job_complete")
        await conn.idle()

    rec, delays = Recorder(), list[float]()
    async with fake_ws(script) as ws, sdk(ws.url, delays=delays) as client:
        sub = client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks())
        await rec.event_count(1)
        sub.reconnect()
        await sub.wait()
    assert rec.ids == [1, 2]
    assert delays == []
    assert rec.states == ["connecting", "connected", "reconnecting", "connected", "closed"]


async def test_live_only_starts_from_the_jobs_head() -> None:
    rest = FakeRest(log=[wire_event(i) for i in range(1, 4)])

    async def script(conn: Conn) -> None:
        frame = await conn.handshake(head=3)
        assert frame["afterEventId"] == 3
        await conn.events(4, last="job_complete")
        await conn.idle()

    rec = Recorder()
    async with fake_ws(script) as ws, sdk(ws.url, rest) as client:
        await client.optimization.subscribe(JOB, **rec.callbacks()).wait()
    assert rec.ids == [4]
    assert rest.paths() == [f"/api/optimizations/{JOB}"]


@pytest.mark.parametrize("status", ["completed", "cancelled", "failed"])
async def test_live_only_on_an_ended_job_ends_at_once(status: str) -> None:
    rest = FakeRest(log=[wire_event(1)], status=status)

    async def script(conn: Conn) -> None:
        raise AssertionError("no connection expected")

    rec = Recorder()
    async with fake_ws(script) as ws, sdk(ws.url, rest) as client:
        sub = client.optimization.subscribe(JOB, **rec.callbacks())
        if status == "failed":
            with pytest.raises(Exception, match="failed"):
                await sub.wait()
        else:
            results = await sub.wait()
            assert results is not None
            assert results.status == status
        await rec.closed()
    assert rec.events == []
    assert len(rec.results) + len(rec.errors) == 1
    assert rec.states == ["connecting", "closed"]
    assert ws.connections == 0


async def test_unsubscribe_while_connected_closes_the_link() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.events(1)
        await conn.idle()

    rec = Recorder()
    async with fake_ws(script) as ws, sdk(ws.url) as client:
        sub = await client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks())
        await rec.event_count(1)
        sub.unsubscribe()
        assert await sub.wait() is None
        await rec.closed()
    assert rec.results == []
    assert rec.errors == []
    assert rec.states == ["connecting", "connected", "closed"]


async def test_leaving_an_async_with_block_unsubscribes() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.events(1)
        await conn.idle()

    rec = Recorder()
    async with fake_ws(script) as ws, sdk(ws.url) as client:
        async with client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks()) as sub:
            await rec.event_count(1)
        assert sub.done
        assert rec.states[-1] == "closed"


async def test_closing_the_client_ends_its_subscriptions() -> None:
    async def script(conn: Conn) -> None:
        await conn.handshake()
        await conn.idle()

    rec = Recorder()
    async with fake_ws(script) as ws:
        client = sdk(ws.url)
        sub = client.optimization.subscribe(JOB, after_event_id=0, **rec.callbacks())
        await rec.until(lambda: "connected" in rec.states)
        await client.aclose()
        assert sub.done
        assert await sub.wait() is None
