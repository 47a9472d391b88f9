"""``/ws/optimization`` frames: authentication and 4401, malformed frames answered with an
``error`` on a socket that stays open, the 64 KiB limit (1009), ping and heartbeat."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.server.streaming.clients import WsClient, ws
from tests.support.live import LiveServer

UNAUTHORIZED = 4401
TOO_BIG = 1009


def assert_error(frame: dict[str, Any], code: str, job_id: str | None = None) -> None:
    assert frame["type"] == "error", frame
    assert frame["code"] == code, frame
    assert isinstance(frame["error"], str), frame
    assert len(frame["error"]) > 10, frame
    assert frame.get("jobId") == job_id, frame


async def assert_refused(client: WsClient) -> None:
    """An ``unauthorized`` error, then close code 4401."""
    frame = await client.recv()
    assert_error(frame, "unauthorized")
    assert await client.closed() == UNAUTHORIZED


# -- authentication -------------------------------------------------------------------------


async def test_each_way_of_authenticating(server: LiveServer, key: str) -> None:
    """``Authorization: Bearer``, ``x-api-key``, or an ``auth`` first message."""
    for headers, first in [
        ({"Authorization": f"Bearer {key}"}, None),
        ({"Authorization": f"bearer  {key} "}, None),
        ({"x-api-key": key}, None),
        ({}, {"type": "auth", "token": key}),
    ]:
        async with ws(server, headers=headers) as client:
            if first is not None:
                await client.send(first)
            assert await client.recv() == {"type": "authenticated"}, headers
            await client.ping()


WRONG_HEADERS: list[dict[str, str]] = [
    {"Authorization": "Bearer wrong-key"},
    {"x-api-key": "wrong-key"},
    {"Authorization": "Bearer wrong-key", "x-api-key": "wrong-key"},
]


async def test_wrong_header_key_is_4401(server: LiveServer, key: str) -> None:
    for headers in [*WRONG_HEADERS, {"Authorization": f"Bearer {key}x"}]:
        async with ws(server, headers=headers) as client:
            await assert_refused(client)


async def test_wrong_first_message_token_is_4401(server: LiveServer, key: str) -> None:
    for token in ["wrong-key", f"{key}x", key.upper()]:
        async with ws(server) as client:
            await client.send({"type": "auth", "token": token})
            await assert_refused(client)


NOT_AUTH = [
    '{"type": "ping"}',
    '{"type": "subscribe", "jobId": "job_x"}',
    '{"type": "auth"}',
    '{"type": "auth", "token": 5}',
    "not json",
]


async def test_first_message_not_auth_is_4401(server: LiveServer) -> None:
    for first in NOT_AUTH:
        async with ws(server) as client:
            await client.send(first)
            await assert_refused(client)
        assert not [f for f in client.seen if f["type"] != "error"], (first, client.seen)


@pytest.mark.parametrize("settings_overrides", [{"ws_auth_timeout_seconds": 0.2}])
async def test_silent_socket_without_auth_is_4401(server: LiveServer) -> None:
    async with ws(server) as client:
        await assert_refused(client)


async def test_auth_again_on_an_authenticated_socket(
    server: LiveServer, key: str, other_key: str
) -> None:
    async with ws(server, key) as client:
        await client.send({"type": "auth", "token": key})
        assert await client.recv() == {"type": "authenticated"}
        await client.send({"type": "auth", "token": other_key})  # another workspace
        assert_error(await client.recv(), "unauthorized")
        await client.ping()


# -- malformed frames -----------------------------------------------------------------------

MALFORMED: list[tuple[str, str, bool]] = [
    # (frame, error code, whether the error names the job)
    ("not json", "invalid_json", False),
    ("", "invalid_json", False),
    ("[1, 2]", "invalid_message", False),
    ('"subscribe"', "invalid_message", False),
    ("null", "invalid_message", False),
    ('{"jobId": "JOB"}', "missing_field", False),
    ('{"type": "dance"}', "unknown_type", False),
    ('{"type": 7}', "unknown_type", False),
    ('{"type": "subscribe"}', "missing_field", False),
    ('{"type": "unsubscribe"}', "missing_field", False),
    ('{"type": "replay"}', "missing_field", False),
    ('{"type": "subscribe", "jobId": ""}', "invalid_field", False),
    ('{"type": "subscribe", "jobId": 12}', "invalid_field", False),
    ('{"type": "subscribe", "jobId": "JOB", "afterEventId": "3"}', "invalid_field", True),
    ('{"type": "subscribe", "jobId": "JOB", "afterEventId": -1}', "invalid_field", True),
    ('{"type": "subscribe", "jobId": "JOB", "afterEventId": 1.5}', "invalid_field", True),
    ('{"type": "subscribe", "jobId": "JOB", "afterEventId": true}', "invalid_field", True),
    ('{"type": "subscribe", "jobId": "JOB", "afterEventId": [1]}', "invalid_field", True),
    ('{"type": "replay", "jobId": "JOB", "afterEventId": "0"}', "invalid_field", True),
    ('{"type": "subscribe", "jobId": "job_doesnotexist"}', "not_found", False),
    ('{"type": "replay", "jobId": "job_doesnotexist"}', "not_found", False),
]


async def test_each_malformed_frame_gets_its_error_and_socket_stays_open(
    server: LiveServer, key: str, job_id: str
) -> None:
    for text, code, names_job in MALFORMED:
        frame_text = text.replace("JOB", job_id)
        async with ws(server, key) as client:
            await client.send(frame_text)
            frame = await client.recv()
            expected_job = job_id if names_job else None
            if code == "not_found":
                expected_job = "job_doesnotexist"
            assert frame.get("code") == code, (frame_text, frame)
            assert_error(frame, code, expected_job)
            await client.ping()
            await client.subscribe(job_id)  # and real commands still work


async def test_binary_frame_gets_error_and_socket_stays_open(server: LiveServer, key: str) -> None:
    async with ws(server, key) as client:
        await client.send(b'{"type": "ping"}')
        assert_error(await client.recv(), "invalid_message")
        await client.ping()


async def test_many_bad_frames_in_a_row_each_answered(server: LiveServer, key: str) -> None:
    async with ws(server, key) as client:
        for text, code, _ in MALFORMED[:8]:
            await client.send(text.replace("JOB", "job_x"))
            assert (await client.recv())["code"] == code
        await client.ping()


# -- frame size -----------------------------------------------------------------------------


async def test_frame_over_64_kib_closes_with_1009(server: LiveServer, key: str) -> None:
    async with ws(server, key) as client:
        await client.ping()
        before = len(client.seen)
        padding = "x" * (64 * 1024)
        await client.send(f'{{"type": "ping", "pad": "{padding}"}}')
        assert await client.closed() == TOO_BIG
        assert client.seen[before:] == []  # no pong for the oversized ping


async def test_frame_of_exactly_64_kib_is_read(server: LiveServer, key: str) -> None:
    async with ws(server, key) as client:
        empty = '{"type": "ping", "pad": ""}'
        frame = empty.replace('""', '"' + "x" * (64 * 1024 - len(empty)) + '"')
        assert len(frame.encode()) == 64 * 1024
        await client.send(frame)
        assert await client.recv() == {"type": "pong"}


# -- heartbeat ------------------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"ws_heartbeat_seconds": 0.2}])
async def test_heartbeats_on_an_idle_socket(server: LiveServer, key: str) -> None:
    loop = asyncio.get_running_loop()
    async with ws(server, key) as client:
        assert await client.recv() == {"type": "heartbeat"}
        first = loop.time()
        assert await client.recv() == {"type": "heartbeat"}  # and again, an interval later
        assert loop.time() - first >= 0.15  # one per interval, not a stream of them
        await client.ping()
