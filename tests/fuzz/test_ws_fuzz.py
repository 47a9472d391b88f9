"""Hostile frames on ``/ws/optimization``, against one real server (uvicorn configured as
`whetstone serve` configures it) while a real dry-run job streams to a separate socket.

Properties, for every frame hypothesis makes (about 200 over a few sockets):

- a frame that is not a valid command is answered with one ``error`` frame carrying a
  documented ``code`` (the one docs/streaming.md names for that mistake), and the socket
  stays open (a marker command sent after it is answered);
- only the documented closes happen: 1009 for a message over 64 KiB, 1007 for a text frame
  that is not UTF-8, 1002 for frames that break RFC 6455 itself;
- the server never falls over: ``GET /api/health`` answers after every close;
- the watcher, a separate socket subscribed to the running job, receives every event of it
  exactly once and in id order, during the fuzzing and after it, to the terminal event.
"""

from __future__ import annotations

import contextlib
import json
import struct
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.fuzz.support import (
    OP_BINARY,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    TIMEOUT,
    RawWebSocket,
    ThreadServer,
    thread_server,
)
from tests.server.streaming.support import EVENT_FIELDS, TERMINAL
from whetstone.samples import load_sample

MAX_FRAME = 64 * 1024
MAX_ID = 2**63 - 1
TYPES = ("auth", "subscribe", "unsubscribe", "replay", "ping")
CODES = {
    "invalid_json",
    "invalid_message",
    "missing_field",
    "invalid_field",
    "unknown_type",
    "not_found",
    "unauthorized",
}
FUZZ = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# error codes answered over the whole module, for test_every_error_code_was_exercised
ANSWERED: Counter[str] = Counter()

Frame = dict[str, Any]


def encode(value: Any) -> str:
    """JSON text of ``value``; the stdlib encoder, which (unlike orjson) writes any integer."""
    return json.dumps(value, ensure_ascii=False)


# -- the server, the watched job and its watcher -------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with thread_server(
        tmp_path_factory.mktemp("ws-fuzz"),
        run_jobs=True,
        control_wait_seconds=0,
        rate_limit_per_minute=0,  # many sockets from one address; limits have their own tests
    ) as live:
        yield live


@pytest.fixture(scope="module")
def key(server: ThreadServer) -> str:
    return server.key()


@contextlib.contextmanager
def _open(server: ThreadServer, key: str, **kwargs: Any) -> Iterator[ClientConnection]:
    """A ``websockets`` connection authenticated by header."""
    with connect(
        server.ws_url,
        additional_headers={"Authorization": f"Bearer {key}"},
        proxy=None,
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
        **kwargs,
    ) as conn:
        assert orjson.loads(conn.recv(timeout=TIMEOUT)) == {"type": "authenticated"}
        yield conn


@dataclass
class Watcher:
    """A socket subscribed to the job from event 0, read by its own thread into ``events``
    until the job's terminal event; anything else it receives is kept in ``other``."""

    conn: ClientConnection
    job_id: str
    events: list[Frame] = field(default_factory=list)
    other: list[Frame] = field(default_factory=list)
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    events_before_fuzzing: int = -1  # the job's last event id when the fuzzing began

    def run(self) -> None:
        try:
            while not self.done.is_set():
                frame = orjson.loads(self.conn.recv(timeout=4 * TIMEOUT))
                if frame["type"] == "replay":
                    batch = frame["data"]
                elif frame["type"] == "event":
                    batch = [frame["event"]]
                else:
                    self.other.append(frame)
                    continue
                self.events.extend(batch)
                if any(e["eventType"] in TERMINAL for e in batch):
                    return
        except BaseException as exc:  # reported by the last test, not lost in the thread
            self.error = exc
        finally:
            self.done.set()


@pytest.fixture(scope="module")
def watched(server: ThreadServer, key: str) -> Iterator[Watcher]:
    """A dry-run job of the capitals sample, long enough to outlast the fuzzing (it is
    cancelled by the last test), and its watcher."""
    sample = load_sample("capitals")
    with server.client(key) as client:
        prompt = client.post("/api/prompts", json=sample["prompt"]).json()["data"]
        dataset = client.post("/api/datasets", json=sample["dataset"]).json()["data"]
        config = {
            **sample["config"],
            "maxIterations": 100,
            "seed": 7,
            "tuningParams": {"simLatencyMs": 50},
        }
        body = {"promptId": prompt["id"], "datasetId": dataset["id"], "config": config}
        response = client.post("/api/optimizations", json=body)
        assert response.status_code == 201, response.text
    job_id = response.json()["data"]["id"]
    with _open(server, key) as conn:
        subscribe = {"type": "subscribe", "jobId": job_id, "afterEventId": 0}
        conn.send(encode(subscribe))
        watcher = Watcher(conn, job_id)
        thread = threading.Thread(target=watcher.run, name="ws-watcher", daemon=True)
        thread.start()
        try:
            yield watcher
        finally:
            watcher.done.set()
            conn.close()
            thread.join(TIMEOUT)


# -- the fuzzing socket ----------------------------------------------------------------------


class Fuzzer:
    """One authenticated socket that every fuzzing test shares (none of them may close it)."""

    def __init__(self, key: str, conn: ClientConnection) -> None:
        self.key = key
        self.conn = conn
        self.count = 0

    def answers(self, frame: str | bytes) -> list[Frame]:
        """Send ``frame``, then a marker command; the frames that came back before the
        marker's answer (heartbeats left out). The marker proves the socket is still open
        and read past ``frame``."""
        self.count += 1
        marker = f"marker-{self.count}"
        self.conn.send(frame)
        self.conn.send(encode({"type": "unsubscribe", "jobId": marker}))
        got: list[Frame] = []
        while True:
            answer = orjson.loads(self.conn.recv(timeout=TIMEOUT))
            if answer == {"type": "unsubscribed", "jobId": marker}:
                return got
            if answer["type"] != "heartbeat":
                got.append(answer)


def _last_event_id(server: ThreadServer, key: str, job_id: str) -> int:
    with server.client(key) as client:
        return int(client.get(f"/api/optimizations/{job_id}").json()["data"]["lastEventId"])


@pytest.fixture(scope="module")
def fuzzer(server: ThreadServer, key: str, watched: Watcher) -> Iterator[Fuzzer]:
    # unbounded receive queue: test_many_frames_fast reads only after sending everything
    with _open(server, key, max_queue=None) as conn:
        watched.events_before_fuzzing = _last_event_id(server, key, watched.job_id)
        yield Fuzzer(key, conn)


# -- what the server must answer -------------------------------------------------------------


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


def _job_id_problem(value: dict[str, Any]) -> str | None:
    if "jobId" not in value:
        return "missing_field"
    job_id = value["jobId"]
    if not isinstance(job_id, str) or not job_id or len(job_id) > 200:
        return "invalid_field"
    return None


def expected(value: Any) -> set[tuple[str, str | None]]:
    """The answers docs/streaming.md allows to a parsed frame: ``(type, code)`` pairs. The
    job ids here never exist and the tokens are never keys."""
    if not isinstance(value, dict):
        return {("error", "invalid_message")}
    kind = value.get("type")
    if kind is None:
        return {("error", "missing_field")}
    if kind == "ping":
        return {("pong", None)}
    if kind == "auth":
        if "token" not in value:
            return {("error", "missing_field")}
        token = value["token"]
        if not isinstance(token, str) or not token or len(token) > 200:
            return {("error", "invalid_field")}
        return {("error", "unauthorized")}
    if not isinstance(kind, str) or kind not in TYPES:
        return {("error", "unknown_type")}
    problems = set()
    job_problem = _job_id_problem(value)
    if job_problem:
        problems.add(("error", job_problem))
    after = value.get("afterEventId")
    if kind != "unsubscribe" and after is not None and not _whole(after):
        problems.add(("error", "invalid_field"))
    if problems:
        return problems  # either mistake may be the one reported
    if kind == "unsubscribe":
        return {("unsubscribed", None)}
    return {("error", "not_found")}


def check_answer(answers: list[Frame], allowed: set[tuple[str, str | None]]) -> None:
    assert len(answers) == 1, answers
    (answer,) = answers
    got = (answer["type"], answer.get("code"))
    assert got in allowed, (answer, allowed)
    if answer["type"] == "error":
        assert answer["code"] in CODES, answer
        assert isinstance(answer["error"], str), answer
        assert answer["error"], answer
        ANSWERED[answer["code"]] += 1


# -- strategies ------------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
EDGES = st.sampled_from(
    [
        -1,
        0,
        1,
        MAX_ID,
        MAX_ID + 1,
        2**64 - 1,
        2**64,
        -(2**63) - 1,
        10**30,
        1.5,
        1e300,
        -0.0,
        "x",
        "",
        "1",
        "5",
        True,
        False,
        None,
        [],
        [1],
        {},
        {"jobId": "x"},
        "a" * 200,
        "a" * 201,
        "\u0000",
        "\U0001f600" * 10,
    ]
)
ODD = EDGES | JSON
# Valid-looking commands whose fields have any type.
COMMANDS = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES) | EDGES},
    optional={"jobId": st.text(max_size=30) | ODD, "afterEventId": ODD, "token": ODD},
)


# -- the fuzzing -----------------------------------------------------------------------------


@settings(FUZZ, max_examples=60)
@given(value=JSON)
def test_any_json_value(fuzzer: Fuzzer, value: Any) -> None:
    check_answer(fuzzer.answers(encode(value)), expected(value))


@settings(FUZZ, max_examples=70)
@given(value=COMMANDS)
def test_commands_with_fields_of_any_type(fuzzer: Fuzzer, value: dict[str, Any]) -> None:
    check_answer(fuzzer.answers(encode(value)), expected(value))


@settings(FUZZ, max_examples=30)
@given(text=st.text(max_size=200) | st.text(alphabet='{}[]":,0123456789.-eE ntrufasl\\'))
def test_any_text(fuzzer: Fuzzer, text: str) -> None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        allowed = {("error", "invalid_json")}
    else:
        allowed = expected(value)
    check_answer(fuzzer.answers(text), allowed)


@settings(FUZZ, max_examples=20)
@given(data=st.binary(max_size=2000))
def test_binary_frames(fuzzer: Fuzzer, data: bytes) -> None:
    check_answer(fuzzer.answers(data), {("error", "invalid_message")})


@settings(FUZZ, max_examples=20)
@given(
    name=st.sampled_from(["jobId", "token", "afterEventId", "type", "padding"]),
    size=st.integers(min_value=201, max_value=MAX_FRAME - 100),
    kind=st.sampled_from(TYPES),
)
def test_long_strings_under_the_limit(fuzzer: Fuzzer, name: str, size: int, kind: str) -> None:
    value = {"type": kind, "jobId": "job_x", "token": "t", name: "\u00e9" * (size // 2)}
    text = encode(value)
    assert len(text.encode()) <= MAX_FRAME
    check_answer(fuzzer.answers(text), expected(value))


@pytest.mark.parametrize("kind", ["replay", "subscribe"])
def test_after_event_id_past_what_the_store_holds(
    fuzzer: Fuzzer, watched: Watcher, kind: str
) -> None:
    """Found by fuzzing: ``replay`` of a real job after 2**63 or more overflowed the SQLite
    driver and dropped the socket without a close frame. Now an ``invalid_field``; the
    largest id that fits is an (empty) replay."""
    for after in (MAX_ID + 1, 2**64 - 1, 10**30):
        value = {"type": kind, "jobId": watched.job_id, "afterEventId": after}
        check_answer(fuzzer.answers(encode(value)), {("error", "invalid_field")})
    value = {"type": "replay", "jobId": watched.job_id, "afterEventId": MAX_ID}
    (answer,) = fuzzer.answers(encode(value))
    assert answer == {"type": "replay", "jobId": watched.job_id, "data": [], "hasMore": False}


def test_a_frame_of_exactly_64_kib_is_read(fuzzer: Fuzzer) -> None:
    text = encode({"type": "ping", "pad": "x" * MAX_FRAME})
    text = encode({"type": "ping", "pad": "x" * (2 * MAX_FRAME - len(text))})
    assert len(text.encode()) == MAX_FRAME
    check_answer(fuzzer.answers(text), {("pong", None)})


def test_many_frames_fast(fuzzer: Fuzzer) -> None:
    """2,000 frames without reading, valid and not, then every answer, in order."""
    sent: list[set[tuple[str, str | None]]] = []
    for i in range(2000):
        value: Any = [{"type": "ping"}, {"type": "bogus"}, [i], {"type": "replay"}][i % 4]
        fuzzer.conn.send(encode(value))
        sent.append(expected(value))
    for allowed in sent:
        answer = orjson.loads(fuzzer.conn.recv(timeout=TIMEOUT))
        while answer["type"] == "heartbeat":
            answer = orjson.loads(fuzzer.conn.recv(timeout=TIMEOUT))
        check_answer([answer], allowed)
    check_answer(fuzzer.answers('{"type": "ping"}'), {("pong", None)})


# -- the documented closes -------------------------------------------------------------------


def _close_code(conn: ClientConnection) -> int | None:
    try:
        while True:
            conn.recv(timeout=TIMEOUT)
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd is not None else None


@pytest.mark.parametrize("size", [MAX_FRAME + 1, 4 * MAX_FRAME, 3 * 1024 * 1024])
@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_over_64_kib_closes_with_1009(
    server: ThreadServer, fuzzer: Fuzzer, size: int, binary: bool
) -> None:
    payload = b"x" * size if binary else ('"' + "x" * (size - 2) + '"').encode()
    with _open(server, fuzzer.key, max_size=None) as conn:
        with contextlib.suppress(ConnectionClosed):  # it may close before the frame is out
            conn.send(payload if binary else payload.decode())
        assert _close_code(conn) == 1009
    assert server.healthy()
    check_answer(fuzzer.answers('{"type": "ping"}'), {("pong", None)})


def _raw(server: ThreadServer, key: str) -> RawWebSocket:
    raw = RawWebSocket(server.port, {"Authorization": f"Bearer {key}"})
    assert raw.recv_frame() == (OP_TEXT, b'{"type":"authenticated"}')
    return raw


INVALID_UTF8 = [
    b'{"type": "ping", "x": "\xff"}',  # a byte that never starts a character
    b'{"type": "ping", "x": "\xc3"}',  # a truncated two-byte character
    b"\xed\xa0\x80",  # a UTF-16 surrogate, encoded
    b"\xc0\xaf",  # an overlong '/'
]


@pytest.mark.parametrize("payload", INVALID_UTF8, ids=["ff", "truncated", "surrogate", "overlong"])
def test_a_text_frame_that_is_not_utf8_closes_with_1007(
    server: ThreadServer, key: str, payload: bytes
) -> None:
    with _raw(server, key) as raw:
        raw.send_frame(OP_TEXT, payload)
        assert raw.close_code() == 1007
    assert server.healthy()


def _send_header(raw: RawWebSocket, first: int, length: int) -> None:
    """A masked frame header claiming ``length`` bytes, and 4 bytes of payload only."""
    raw.sock.sendall(bytes([first, 0x80 | 127]) + struct.pack("!Q", length) + b"mask" + b"abcd")


BROKEN_FRAMES = {
    "reserved opcode": lambda raw: raw.send_frame(0x3, b"x"),
    "unmasked": lambda raw: raw.sock.sendall(bytes([0x81, 0x02]) + b"{}"),
    "ping over 125 bytes": lambda raw: raw.send_frame(OP_PING, b"x" * 200),
    "continuation first": lambda raw: raw.send_frame(OP_CONT, b"{}"),
    "close code 5": lambda raw: raw.send_frame(0x8, struct.pack("!H", 5)),
}


@pytest.mark.parametrize("send", list(BROKEN_FRAMES.values()), ids=list(BROKEN_FRAMES))
def test_frames_that_break_rfc_6455_close_with_1002(
    server: ThreadServer, key: str, send: Any
) -> None:
    with _raw(server, key) as raw:
        send(raw)
        assert raw.close_code() == 1002
    assert server.healthy()


def test_a_header_claiming_8_eib_closes_with_1009_at_once(server: ThreadServer, key: str) -> None:
    """The server refuses on the length in the header, before reading (or allocating) it."""
    with _raw(server, key) as raw:
        _send_header(raw, 0x81, 2**62)
        assert raw.close_code() == 1009
    assert server.healthy()


def test_fragments_and_control_frames(server: ThreadServer, key: str) -> None:
    """A message split over frames is one message, a ping between its fragments is answered,
    and fragments adding up to more than 64 KiB close with 1009."""
    with _raw(server, key) as raw:
        raw.send_frame(OP_TEXT, b'{"type":', fin=False)
        raw.send_frame(OP_PING, b"between")
        raw.send_frame(OP_CONT, b' "ping"}')
        assert raw.recv_frame() == (OP_PONG, b"between")
        assert raw.recv_frame() == (OP_TEXT, b'{"type":"pong"}')
        raw.send_frame(OP_BINARY, b"\x00")
        opcode, payload = raw.recv_frame()
        assert opcode == OP_TEXT
        assert orjson.loads(payload)["code"] == "invalid_message"
        raw.send_frame(OP_TEXT, b'"', fin=False)
        for _ in range(2):
            raw.send_frame(OP_CONT, b"x" * (MAX_FRAME // 2), fin=False)
        raw.send_frame(OP_CONT, b'"')
        assert raw.close_code() == 1009
    assert server.healthy()


def test_the_app_closes_oversized_frames_itself(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Behind a server whose own limit is larger (uvicorn's default is 16 MiB), the app
    still closes a message over WHETSTONE_WS_MAX_FRAME_BYTES with 1009."""
    with thread_server(
        tmp_path_factory.mktemp("ws-app-limit"), ws_max_size=16 * 1024 * 1024
    ) as live:
        key = live.key()
        with _open(live, key, max_size=None) as conn:
            conn.send('"' + "\u00e9" * (MAX_FRAME // 2) + '"')  # 64 KiB + 2 bytes, in UTF-8
            assert _close_code(conn) == 1009
        with _open(live, key) as conn:
            conn.send('"' + "\u00e9" * (MAX_FRAME // 2 - 1) + '"')  # exactly 64 KiB
            assert orjson.loads(conn.recv(timeout=TIMEOUT))["code"] == "invalid_message"
        assert live.healthy()


# -- and the watcher saw everything ----------------------------------------------------------


def test_every_error_code_was_exercised() -> None:
    if not ANSWERED:
        pytest.skip("run with the fuzzing tests above")
    assert set(ANSWERED) == CODES, ANSWERED


def test_the_watcher_got_every_event_in_order(
    server: ThreadServer, key: str, watched: Watcher, fuzzer: Fuzzer
) -> None:
    """The job wrote events while the fuzzing ran; once it ends (cancelled now, unless the
    fuzzing outlasted its 100 iterations) the watcher has every event from 1 to the terminal
    one, once each, in order, exactly as stored, and nothing but ``subscribed`` besides."""
    with server.client(key) as client:
        job = client.get(f"/api/optimizations/{watched.job_id}").json()["data"]
        assert job["lastEventId"] > watched.events_before_fuzzing >= 0, job
        if job["status"] == "running":
            response = client.post(f"/api/optimizations/{watched.job_id}/cancel")
            assert response.status_code == 200, response.text
        assert watched.done.wait(4 * TIMEOUT), "no terminal event reached the watcher"
        assert watched.error is None, repr(watched.error)
        stored = client.get(
            f"/api/optimizations/{watched.job_id}/events", params={"limit": 5000}
        ).json()["data"]
    ids = [e["id"] for e in watched.events]
    assert ids == list(range(1, len(ids) + 1)), ids
    assert watched.events == stored
    assert watched.events[-1]["eventType"] in ("job_cancelled", "job_complete")
    assert all(e.keys() >= EVENT_FIELDS for e in watched.events)
    assert [f["type"] for f in watched.other if f["type"] != "heartbeat"] == ["subscribed"]
    assert fuzzer.count > 200
    assert server.healthy()
