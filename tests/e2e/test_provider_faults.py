"""Provider faults inside whole jobs, against the fake LLM server: what is retried is
retried and the job completes; what is not fails the job with a ``provider_error`` that
says what went wrong, without the key; a provider with no key fails the job before any call.

Retry waits are real but bounded (``provider_max_wait_seconds`` 0.05 in conftest)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import Finished, run, run_one, task
from tests.engine.optimizer_helpers import check_grammar
from tests.support.api import Api
from tests.support.fake_llm import FakeLLM, Reply
from tests.support.role_llm import ITEMS, RoleResponder
from whetstone.server.services import Services

MODEL = {"openai": "openai/fake-gpt", "anthropic": "anthropic/fake-task"}
WRONG_KEY = "sk-wrong-key-9876543210"


def sends_of_first(fake: FakeLLM) -> int:
    """How often the first request the fake saw (the one a scripted reply answered) was sent."""
    first = fake.requests[0].body
    return sum(1 for sent in fake.requests if sent.body == first)


def assert_failed(done: Finished, *, code: str = "provider_error") -> str:
    """The job failed (and says so in its status, its error and its last event); the
    failure's message."""
    assert done.job["status"] == "failed", done.events[-1]
    check_grammar(done.events)
    assert done.error["code"] == code, done.error
    assert done.events[-1]["data"]["willRetry"] is False
    message: str = done.error["message"]
    return message


@pytest.mark.parametrize(
    ("provider", "fault"),
    [
        ("openai", Reply(429, "Rate limit reached", headers={"Retry-After": "0.01"})),
        ("openai", Reply(429, "Rate limit reached", headers={"retry-after-ms": "10"})),
        ("openai", Reply(500, "The server had an error while processing your request")),
        ("anthropic", Reply(429, "Number of requests exceeded", headers={"Retry-After": "0"})),
        ("anthropic", Reply(529, "Overloaded")),
    ],
    ids=["openai-429", "openai-429-ms", "openai-500", "anthropic-429", "anthropic-529"],
)
async def test_a_retryable_failure_is_retried_and_the_job_completes(
    api: Api, services: Services, fake: FakeLLM, provider: str, fault: Reply
) -> None:
    fake.push(fault)
    done = await run_one(api, services, model=MODEL[provider], maxIterations=1)

    assert done.job["status"] == "completed", done.events[-1]
    check_grammar(done.events)
    assert sends_of_first(fake) == 2  # refused, then sent again
    assert done.usage["llmCalls"] == len(fake.requests) - 1  # the refusal is not a call


async def test_a_retry_after_beyond_the_wait_bound_fails_the_job_at_once(
    api: Api, services: Services, fake: FakeLLM
) -> None:
    fake.push(Reply(429, "Rate limit reached", headers={"Retry-After": "30"}))
    message = assert_failed(await run_one(api, services, model=MODEL["openai"]))

    assert message.startswith("openai unavailable after 1 attempt")
    assert "retry after 30 s (Retry-After)" in message
    assert "HTTP 429" in message
    assert sends_of_first(fake) == 1


@pytest.mark.parametrize(
    "settings_overrides", [{"provider_timeout_seconds": 0.2, "provider_max_retries": 0}]
)
async def test_a_provider_that_hangs_fails_the_job_with_a_timeout(
    api: Api, services: Services, fake: FakeLLM
) -> None:
    fake.push(Reply(hang=True))
    message = assert_failed(await run_one(api, services, model=MODEL["openai"]))

    assert message.startswith("openai unavailable after 1 attempt")
    assert "timeout" in message.lower(), message
    assert sends_of_first(fake) == 1


@pytest.mark.parametrize(
    ("provider", "body", "what"),
    [
        ("openai", {"object": "list"}, "missing choices"),
        ("openai", {"choices": [{"message": {"role": "assistant"}}]}, "missing choices[0]"),
        ("anthropic", {"type": "message"}, "missing content"),
    ],
)
async def test_a_malformed_answer_fails_the_job_naming_the_provider(
    api: Api, services: Services, fake: FakeLLM, provider: str, body: Any, what: str
) -> None:
    fake.push(Reply(body=body))
    message = assert_failed(await run_one(api, services, model=MODEL[provider]))

    assert message.startswith(f"{provider} returned a malformed response: {what}")
    assert sends_of_first(fake) == 1  # a malformed answer is not retried


@pytest.mark.parametrize("settings_overrides", [{"openai_base_url": None, "openai_api_key": None}])
@pytest.mark.parametrize("environ", [{}, {"OPENAI_API_KEY": ""}, {"OPENAI_API_KEY": "  \n"}])
async def test_openai_without_a_key_fails_the_job_before_any_call(
    api: Api,
    services: Services,
    fake: FakeLLM,
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    done = await run_one(api, services, model=MODEL["openai"])
    message = assert_failed(done)

    assert "OPENAI_API_KEY" in message
    assert "WHETSTONE_OPENAI_API_KEY" in message
    _assert_no_call(done)
    assert await _ready(api, "openai") is False  # as GET /api/models warned


@pytest.mark.parametrize("settings_overrides", [{"anthropic_api_key": None}])
async def test_anthropic_without_a_key_fails_the_job_before_any_call(
    api: Api, services: Services, fake: FakeLLM
) -> None:
    done = await run_one(api, services, model=MODEL["anthropic"])
    message = assert_failed(done)

    assert (
        message
        == "anthropic needs an API key: set ANTHROPIC_API_KEY or WHETSTONE_ANTHROPIC_API_KEY"
    )
    _assert_no_call(done)
    assert fake.requests == []  # the fake is anthropic's base URL: nothing was sent to it
    assert await _ready(api, "anthropic") is False


def _assert_no_call(done: Finished) -> None:
    """The job failed as it started, before any evaluation."""
    assert [e["eventType"] for e in done.events] == ["job_started", "job_failed"]
    assert done.usage["llmCalls"] == 0


async def _ready(api: Api, provider: str) -> bool:
    """What GET /api/models says of ``provider``'s readiness."""
    data = (await api.call("GET", "/api/models"))["data"]
    ready: bool = next(p["ready"] for p in data["providers"] if p["name"] == provider)
    return ready


@pytest.mark.parametrize(
    ("provider", "settings_overrides", "variable"),
    [
        ("openai", {"openai_api_key": WRONG_KEY}, "OPENAI_API_KEY"),
        ("anthropic", {"anthropic_api_key": WRONG_KEY}, "ANTHROPIC_API_KEY"),
    ],
)
async def test_a_rejected_key_fails_the_job_without_a_retry(
    api: Api, services: Services, fake: FakeLLM, provider: str, variable: str
) -> None:
    one_item = await task(api, ITEMS[:1])
    done = await run(api, services, await one_item.start(model=MODEL[provider]))
    message = assert_failed(done)

    assert message.startswith(f"{provider} rejected the API key (HTTP 401")
    assert variable in message
    assert len(fake.requests) == 1
    assert WRONG_KEY not in done.text()


@pytest.mark.parametrize("settings_overrides", [{"openai_api_key": WRONG_KEY}])
async def test_a_rejected_key_stops_the_calls_still_queued(
    api: Api, services: Services, fake: FakeLLM
) -> None:
    """One call at a time on three items: after the first 401 no other call can succeed."""
    done = await run_one(api, services, model=MODEL["openai"], concurrency=1)
    assert_failed(done)
    assert len(fake.requests) == 1, [sent.body["messages"] for sent in fake.requests]


async def test_a_failed_job_counts_the_calls_it_paid_for(
    api: Api, services: Services, fake: FakeLLM, responder: RoleResponder
) -> None:
    """The baseline's three task calls, one at a time: the first is paid, the second answer
    is malformed (which fails the job), the third is never sent; the first still counts."""
    fake.push(Reply(), Reply(body={"object": "list"}))
    done = await run_one(
        api, services, model=MODEL["openai"], concurrency=1, evaluationMetrics=["exact_match"]
    )
    assert_failed(done)
    assert len(responder.answered) == 1
    assert done.usage["llmCalls"] == 1, done.usage
    assert (done.usage["inputTokens"], done.usage["outputTokens"]) == responder.tokens()
