"""A local LLM server speaking both the OpenAI and the Anthropic protocol, for provider tests.

A Starlette app on uvicorn, on a free loopback port, in the test's own event loop (as
``tests.support.live`` runs the real server). It checks keys and request shapes as the real
services do and answers with their error bodies; it records every request; a test can
script the next answers (a status with ``Retry-After``, a malformed body, a hang).
Otherwise it answers ``responder(last user message)`` with token counts = word counts.

    async with fake_llm() as fake:
        fake.push(Reply(429, headers={"Retry-After": "2"}))
        provider = OpenAIProvider(ProviderConfig(fake.openai_url, OPENAI_KEY), environ={})
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import socket
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.live import _Server

OPENAI_KEY = "sk-test-openai-0123456789"
ANTHROPIC_KEY = "sk-ant-test-0123456789"
EMBEDDING_DIMENSION = 8


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``status >= 400`` answers the protocol's error body with
    ``message``; ``body`` (JSON) or ``text`` (raw) replace the body; ``hang`` never
    answers (until the server stops); a plain 200 is the normal answer, with ``headers``."""

    status: int = 200
    message: str = "scripted failure"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    text: str | None = None
    hang: bool = False


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]  # lower-case names
    body: Any  # the JSON body, None if not JSON


def echo(prompt: str) -> str:
    return f"echo: {prompt}"


def words(text: str) -> int:
    return len(text.split())


def embedding(text: str) -> list[float]:
    """A deterministic unit vector: a hashed bag of the text's words."""
    vector = [0.0] * EMBEDDING_DIMENSION
    for word in text.lower().split():
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % EMBEDDING_DIMENSION] += 1.0 if digest[1] % 2 else -1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


class FakeLLM:
    def __init__(
        self,
        *,
        responder: Callable[[str], str] = echo,
        require_openai_key: bool = True,
        usage: bool = True,
    ) -> None:
        self.responder = responder
        self.require_openai_key = require_openai_key
        self.usage = usage  # False: omit ``usage`` from OpenAI answers, as Ollama may
        self.requests: list[Recorded] = []
        self.script: deque[Reply] = deque()
        self.release = asyncio.Event()  # ends every hang
        self.port = 0

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def push(self, *replies: Reply) -> None:
        """Script the next answers, one per request, before any normal answer."""
        self.script.extend(replies)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/v1/messages", self._messages, methods=["POST"]),
            ]
        )

    async def _chat(self, request: Request) -> Response:
        return await self._serve(request, _OPENAI, _chat_problem, self._chat_answer)

    async def _embeddings(self, request: Request) -> Response:
        return await self._serve(request, _OPENAI, _embeddings_problem, _embeddings_answer)

    async def _messages(self, request: Request) -> Response:
        return await self._serve(request, _ANTHROPIC, _messages_problem, self._messages_answer)

    async def _serve(
        self,
        request: Request,
        dialect: _Dialect,
        problem: Callable[[Any], str | None],
        answer: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        self.requests.append(Recorded(request.url.path, dict(request.headers), body))
        denied = dialect.authenticate(request.headers, self)
        if denied is not None:
            return dialect.error(*denied)
        reply = self.script.popleft() if self.script else Reply()
        if reply.hang:
            await self.release.wait()
            return dialect.error(503, "released")
        if reply.text is not None:
            return Response(reply.text, reply.status, dict(reply.headers), "text/plain")
        if reply.body is not None:
            return JSONResponse(reply.body, reply.status, dict(reply.headers))
        if reply.status >= 400:
            return dialect.error(reply.status, reply.message, reply.headers)
        wrong = problem(body)
        if wrong is not None:
            return dialect.error(400, wrong)
        return JSONResponse(answer(body), reply.status, dict(reply.headers))

    def _chat_answer(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body["messages"]
        text = self.responder(_last_user(messages))
        out: dict[str, Any] = {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
        }
        if self.usage:
            prompt = sum(words(_text(m["content"])) for m in messages)
            out["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": words(text),
                "total_tokens": prompt + words(text),
            }
        return out

    def _messages_answer(self, body: dict[str, Any]) -> dict[str, Any]:
        texts = [_text(m["content"]) for m in body["messages"]]
        text = self.responder(_last_user(body["messages"]))
        return {
            "id": f"msg_fake_{len(self.requests)}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": words(_text(body.get("system", ""))) + sum(map(words, texts)),
                "output_tokens": words(text),
            },
        }


@dataclass(frozen=True)
class _Dialect:
    """How a protocol authenticates and shapes its errors."""

    authenticate: Callable[[Mapping[str, str], FakeLLM], tuple[int, str] | None]
    error_body: Callable[[int, str], dict[str, Any]]

    def error(
        self, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        return JSONResponse(self.error_body(status, message), status, dict(headers or {}))


def _openai_auth(headers: Mapping[str, str], fake: FakeLLM) -> tuple[int, str] | None:
    auth = headers.get("authorization")
    if auth is None:
        if not fake.require_openai_key:
            return None
        return 401, (
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
    if auth != f"Bearer {OPENAI_KEY}":
        key = auth.removeprefix("Bearer ")
        return 401, f"Incorrect API key provided: {key[:3]}***{key[-2:]}."
    return None


def _openai_error(status: int, message: str) -> dict[str, Any]:
    kind = {401: "invalid_request_error", 429: "rate_limit_error"}.get(status)
    kind = kind or ("server_error" if status >= 500 else "invalid_request_error")
    code = "invalid_api_key" if status == 401 else None
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _anthropic_auth(headers: Mapping[str, str], fake: FakeLLM) -> tuple[int, str] | None:
    key = headers.get("x-api-key")
    if key is None:
        return 401, "x-api-key header is required"
    if key != ANTHROPIC_KEY:
        return 401, "invalid x-api-key"
    if "anthropic-version" not in headers:
        return 400, "anthropic-version: header is required"
    return None


_ANTHROPIC_KINDS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _anthropic_error(status: int, message: str) -> dict[str, Any]:
    kind = _ANTHROPIC_KINDS.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


_OPENAI = _Dialect(_openai_auth, _openai_error)
_ANTHROPIC = _Dialect(_anthropic_auth, _anthropic_error)


def _chat_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: Field required"
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            return f"messages.{i}: role and content are required"
    return None


def _messages_problem(body: Any) -> str | None:
    wrong = _chat_problem(body)
    if wrong is not None:
        return wrong
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    for i, m in enumerate(body["messages"]):
        if m["role"] not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
    if "system" in body and not isinstance(body["system"], str | list):
        return "system: Input should be a valid string"
    return None


def _embeddings_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return "you must provide a model parameter"
    texts = body.get("input")
    if not isinstance(texts, str | list) or not texts:
        return "'input' is a required property"
    return None


def _embeddings_answer(body: dict[str, Any]) -> dict[str, Any]:
    texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
    return {
        "object": "list",
        "model": body["model"],
        "data": [
            {"object": "embedding", "index": i, "embedding": embedding(t)}
            for i, t in enumerate(texts)
        ],
        "usage": {"prompt_tokens": sum(map(words, texts)), "total_tokens": sum(map(words, texts))},
    }


def _last_user(messages: list[dict[str, Any]]) -> str:
    return next((_text(m["content"]) for m in reversed(messages) if m["role"] == "user"), "")


def _text(content: Any) -> str:
    """A message's text: a string, or the text blocks of a list of content blocks."""
    if isinstance(content, str):
        return content
    return " ".join(b.get("text", "") for b in content if isinstance(b, dict))


class FakeWait:
    """A ``RetryPolicy``'s ``sleep``: records each wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)

    @property
    def total(self) -> float:
        return sum(self.waits)


@contextlib.asynccontextmanager
async def fake_llm(**options: Any) -> AsyncIterator[FakeLLM]:
    """Serve a :class:`FakeLLM` (made with ``options``) until the block ends."""
    fake = FakeLLM(**options)
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on such connections, and
    # without it each answer on a kept-alive connection waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    fake.port = int(sock.getsockname()[1])
    config = uvicorn.Config(fake.app(), log_level="warning", lifespan="off", access_log=False)
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    ready = asyncio.create_task(server.ready.wait())
    try:
        await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if not server.ready.is_set():
            raise RuntimeError("the fake LLM server did not start")
        yield fake
    finally:
        ready.cancel()
        fake.release.set()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        sock.close()
