"""No key reaches a log record: API keys in headers, in a (wrong) query string or path, on
the WebSocket, provider keys, in messages, arguments and tracebacks, uvicorn's access log
included."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from uvicorn.logging import AccessFormatter
from websockets.asyncio.client import connect

from tests.server.streaming.clients import bearer, ws
from tests.support.live import LiveServer, _Server, free_port
from whetstone import redaction
from whetstone.cli.embedded import server_config
from whetstone.redaction import redact_text
from whetstone.security import generate_key
from whetstone.server.app import create_app
from whetstone.server.services import Services
from whetstone.settings import Settings

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
PROVIDER_KEYS = ("sk-proj-AbCdEfGhIjKlMnOpQrStUv012345", "sk-ant-api03-ZyXwVuTsRqPoNm98765")


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    """uvicorn's loggers at INFO and propagating (so ``caplog`` sees them), and the access
    log also written by uvicorn's own formatter; all put back afterwards."""
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in UVICORN_LOGGERS]
    propagate = [(logger, logger.propagate) for logger, _ in saved]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    for logger, _ in saved:
        logger.setLevel(logging.INFO)
        logger.propagate = True
    try:
        yield stream
    finally:
        access.removeHandler(handler)
        for logger, level in saved:
            logger.setLevel(level)
        for logger, value in propagate:
            logger.propagate = value


@contextlib.asynccontextmanager
async def logging_server(services: Services) -> AsyncIterator[LiveServer]:
    """Real uvicorn with its access log on, logging through the standard loggers."""
    port = free_port()
    config = uvicorn.Config(
        create_app(services=services),
        host="127.0.0.1",
        port=port,
        log_config=None,
        log_level="info",
        access_log=True,
        lifespan="off",
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    ready = asyncio.create_task(server.ready.wait())
    try:
        await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        assert server.ready.is_set(), "uvicorn did not start"
        yield LiveServer(services, port, server)
    finally:
        ready.cancel()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


def _assert_nowhere(caplog: pytest.LogCaptureFixture, secrets: list[str], *texts: str) -> None:
    seen = [caplog.text, *texts]
    for record in caplog.records:
        seen += [record.getMessage(), str(record.msg), repr(record.args), record.exc_text or ""]
    for secret in secrets:
        for text in seen:
            assert secret not in text


async def test_keys_in_requests_never_reach_the_logs(
    services: Services,
    key: str,
    caplog: pytest.LogCaptureFixture,
    access_log: io.StringIO,
) -> None:
    wrong, _ = generate_key()
    secret_part = key.split("_", 2)[2]
    caplog.set_level(logging.DEBUG)
    async with (
        logging_server(services) as server,
        httpx.AsyncClient(base_url=server.http, trust_env=False, timeout=10) as http,
    ):
        assert (await http.get("/api/prompts", headers=bearer(key))).status_code == 200
        assert (await http.get("/api/prompts", headers={"x-api-key": key})).status_code == 200
        assert (await http.get("/api/prompts", headers=bearer(wrong))).status_code == 401
        for query in (f"api_key={key}", f"key={key}", f"token={key}&x=1", f"apiKey={wrong}"):
            response = await http.get(f"/api/prompts?{query}")
            assert response.status_code == 401  # a key in the URL is not accepted
        assert (await http.get(f"/api/prompts/{key}", headers=bearer(key))).status_code == 404
        assert (await http.get(f"/{key}")).status_code == 404
        async with ws(server, key) as socket:
            await socket.ping()
        async with ws(server) as socket:  # first-message auth
            await socket.send({"type": "auth", "token": key})
            await socket.expect("authenticated")
    access = access_log.getvalue()
    assert '"GET /api/prompts?api_key=… HTTP/1.1" 401' in access  # captured, and redacted
    assert '"GET /api/prompts?token=…&x=1 HTTP/1.1" 401' in access
    assert f'"GET /api/prompts/{key[:17]}… HTTP/1.1" 404' in access  # the public prefix stays
    assert any(r.name == "uvicorn.access" for r in caplog.records)
    assert any("WebSocket" in r.getMessage() for r in caplog.records)
    _assert_nowhere(caplog, [key, secret_part, wrong], access)


async def test_keys_in_the_query_of_a_websocket_url_are_redacted(
    services: Services, key: str, caplog: pytest.LogCaptureFixture, access_log: io.StringIO
) -> None:
    caplog.set_level(logging.DEBUG)
    async with logging_server(services) as server:
        server_ws = f"ws://127.0.0.1:{server.port}/ws/optimization?token={key}"
        async with connect(server_ws, additional_headers=bearer(key), proxy=None) as conn:
            await conn.recv()
    assert any("/ws/optimization?token=…" in r.getMessage() for r in caplog.records)
    _assert_nowhere(caplog, [key], access_log.getvalue())


def test_messages_arguments_and_tracebacks_are_redacted(
    caplog: pytest.LogCaptureFixture, services: Services
) -> None:
    create_app(services=services)  # installs the redaction
    key, _ = generate_key()
    log = logging.getLogger("whetstone.test")
    caplog.set_level(logging.DEBUG)
    log.info(f"a key in the message {key}")
    log.info("in the arguments %s and %r", key, {"Authorization": f"Bearer {key}"})
    log.info("named: %(auth)s", {"auth": f"x-api-key: {key}"})
    log.warning("provider keys %s / %s", *PROVIDER_KEYS)
    log.info("headers %s", [(b"authorization", b"Bearer opaque-token-123")])
    log.info("basic %s", "Authorization: Basic dXNlcjpwYXNzd29yZA==")
    try:
        raise ValueError(f"bad key {key}")
    except ValueError:
        log.exception("failed with %s", PROVIDER_KEYS[0])
    log.info("nothing secret: %s of %d, %s", "token_f1", 3, None)
    _assert_nowhere(
        caplog, [key, *PROVIDER_KEYS, "opaque-token-123", "dXNlcjpwYXNzd29yZA=="], caplog.text
    )
    messages = [r.getMessage() for r in caplog.records]
    assert messages[1].startswith(f"in the arguments {key[:17]}…")  # the public prefix stays
    assert "sk-…" in messages[3]
    assert "sk-ant-…" in messages[3]
    assert "Traceback" in caplog.text
    assert messages[-1] == "nothing secret: token_f1 of 3, None"
    assert caplog.records[-1].args == ("token_f1", 3, None)  # untouched when nothing matches


def test_redact_text_is_idempotent_and_keeps_the_rest() -> None:
    key, parts = generate_key()
    line = f'GET /x?api_key={key}&limit=5 "Authorization: Bearer {key}" id=key_abc token_f1'
    once = redact_text(line)
    assert redact_text(once) == once
    assert parts.secret not in once
    assert "&limit=5" in once
    assert "id=key_abc token_f1" in once


def test_serve_installs_the_redaction(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """``whetstone serve`` builds its uvicorn config (and app) with ``server_config``."""
    monkeypatch.setattr(logging, "_logRecordFactory", logging.LogRecord)
    assert logging.getLogRecordFactory() is logging.LogRecord
    server_config(settings)
    installed = logging.getLogRecordFactory()
    assert installed is not logging.LogRecord
    redaction.install()  # a second time changes nothing
    assert logging.getLogRecordFactory() is installed
    key, _ = generate_key()
    record = logging.getLogger("x").makeRecord("x", logging.INFO, "f", 1, "k=%s", (key,), None)
    assert key not in record.getMessage()
