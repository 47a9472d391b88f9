"""Retries: the backoff schedule and its decisions (pure), then what the providers do with
429, 5xx, timeouts and connection failures from the fake server. Nothing really waits:
the policy's ``sleep`` is a :class:`FakeWait` that records the waits."""

from __future__ import annotations

import random
import socket
from datetime import UTC, datetime

import httpx
import pytest

from tests.support.fake_llm import OPENAI_KEY, FakeLLM, FakeWait, Reply
from whetstone.clock import ManualClock
from whetstone.providers.anthropic import AnthropicProvider
from whetstone.providers.base import ChatMessage, CompletionRequest
from whetstone.providers.config import ProviderConfig
from whetstone.providers.errors import ProviderConfigError, ProviderUnavailableError
from whetstone.providers.openai import OpenAIProvider
from whetstone.providers.retry import RetryPolicy, parse_retry_after

REQUEST = CompletionRequest("model-x", (ChatMessage("user", "Say hi"),))
NOW = datetime(2026, 1, 1, tzinfo=UTC)


# --- the policy, without I/O ---------------------------------------------------------------


def test_backoff_is_full_jitter_under_a_doubling_capped_ceiling() -> None:
    policy = RetryPolicy(rng=random.Random(42))
    reference = random.Random(42)
    ceilings = [0.5, 1, 2, 4, 8, 16, 20, 20]
    expected = [reference.uniform(0, c) for c in ceilings]
    assert [policy.backoff(n) for n in range(1, 9)] == expected


def test_backoff_stays_within_its_ceiling() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=5, rng=random.Random(3))
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 5), (50, 5), (5000, 5)]:
        draws = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in draws)
        assert max(draws) > ceiling * 0.9  # the whole range is used


def test_decide_waits_the_longer_of_backoff_and_retry_after() -> None:
    policy = RetryPolicy(rng=random.Random(1))
    backoff = RetryPolicy(rng=random.Random(1)).backoff(1)
    assert policy.decide(1, 0, None).wait == backoff
    policy = RetryPolicy(rng=random.Random(1))
    assert policy.decide(1, 0, 7.5).wait == 7.5


def test_decide_gives_up_after_max_attempts() -> None:
    decision = RetryPolicy(max_attempts=3).decide(3, 0, None)
    assert (decision.wait, decision.reason) == (None, "retries exhausted")


def test_decide_never_waits_past_the_bound() -> None:
    policy = RetryPolicy(base_delay=100, max_delay=100, max_total_wait=10, rng=random.Random(0))
    assert policy.decide(1, 9, None).wait == pytest.approx(1)
    decision = policy.decide(2, 10, None)
    assert (decision.wait, decision.reason) == (None, "the 10 s retry wait bound is spent")


def test_decide_gives_up_at_once_when_retry_after_exceeds_what_is_left() -> None:
    decision = RetryPolicy(max_total_wait=60).decide(1, 15, 50)
    assert decision.wait is None
    assert decision.reason == (
        "it asked to retry after 50 s (Retry-After), more than the 45 s left of the "
        "60 s retry wait bound"
    )


def test_a_policy_needs_an_attempt_and_no_negative_delays() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="base_delay"):
        RetryPolicy(base_delay=-1)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after-ms": "x", "retry-after": "9"}, 9.0),
        ({"retry-after": "Thu, 01 Jan 2026 00:00:05 GMT"}, 5.0),
        ({"retry-after": "Wed, 31 Dec 2025 23:59:00 GMT"}, 0.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers, NOW) == seconds


# --- the providers, over HTTP --------------------------------------------------------------


async def test_429_waits_at_least_retry_after_then_succeeds(
    openai: OpenAIProvider, fake: FakeLLM, fake_wait: FakeWait
) -> None:
    fake.push(Reply(429, "Rate limit reached", headers={"Retry-After": "2"}))
    completion = await openai.complete(REQUEST)

    assert completion.text == "echo: Say hi"
    assert len(fake_wait.waits) == 1
    assert fake_wait.waits[0] >= 2
    assert (openai.attempts, openai.retries) == (2, 1)


async def test_retry_after_ms_is_honoured(
    openai: OpenAIProvider, fake: FakeLLM, fake_wait: FakeWait
) -> None:
    fake.push(Reply(429, headers={"retry-after-ms": "1500", "Retry-After": "1"}))
    await openai.complete(REQUEST)
    assert fake_wait.waits == [1.5]  # the first backoff is at most 0.5 s


async def test_retry_after_as_an_http_date(
    openai: OpenAIProvider, fake: FakeLLM, fake_wait: FakeWait, clock: ManualClock
) -> None:
    assert clock.now() == NOW
    fake.push(Reply(503, headers={"Retry-After": "Thu, 01 Jan 2026 00:00:05 GMT"}))
    await openai.complete(REQUEST)
    assert fake_wait.waits == [5.0]


async def test_a_500_is_retried_after_the_seeded_backoff(
    openai: OpenAIProvider, fake: FakeLLM, fake_wait: FakeWait
) -> None:
    fake.push(Reply(500, "The server had an error"))
    completion = await openai.complete(REQUEST)

    assert completion.text == "echo: Say hi"
    assert fake_wait.waits == [random.Random(7).uniform(0, 0.5)]  # the fixture's seed
    assert len(fake.requests) == 2


async def test_anthropic_overloaded_529_is_retried(
    anthropic: AnthropicProvider, fake: FakeLLM, fake_wait: FakeWait
) -> None:
    fake.push(Reply(529, "Overloaded"), Reply(502, "Bad gateway"))
    completion = await anthropic.complete(REQUEST)
    assert completion.text == "echo: Say hi"
    assert (anthropic.attempts, anthropic.retries, len(fake_wait.waits)) == (3, 2, 2)


async def test_503_forever_gives_up_after_max_attempts(
    openai: OpenAIProvider, fake: FakeLLM, fake_wait: FakeWait
) -> None:
    fake.push(*[Reply(503, "Service unavailable")] * 10)
    with pytest.raises(ProviderUnavailableError) as caught:
        await openai.complete(REQUEST)

    assert str(caught.value) == (
        "openai unavailable after 6 attempts: retries exhausted; "
        "last: HTTP 503: server_error: Service unavailable"
    )
    assert caught.value.retryable
    assert caught.value.details == {"provider": "openai", "providerStatus": 503, "attempts": 6}
    assert (openai.attempts, openai.retries, len(fake_wait.waits)) == (6, 5, 5)
    assert fake_wait.total <= 60


async def test_503_forever_gives_up_when_the_wait_bound_is_spent(
    fake: FakeLLM, fake_wait: FakeWait
) -> None:
    policy = RetryPolicy(
        max_attempts=50, base_delay=4, max_total_wait=10, rng=random.Random(7), sleep=fake_wait
    )
    provider = OpenAIProvider(ProviderConfig(fake.openai_url, OPENAI_KEY, retry=policy), environ={})
    fake.push(*[Reply(503)] * 50)
    with pytest.raises(ProviderUnavailableError, match="the 10 s retry wait bound is spent"):
        await provider.complete(REQUEST)
    await provider.close()

    assert fake_wait.total == pytest.approx(10)
    assert provider.attempts == len(fake_wait.waits) + 1 < 50


async def test_retry_after_beyond_the_bound_gives_up_at_once(
    openai: OpenAIProvider, fake: FakeLLM, fake_wait: FakeWait
) -> None:
    fake.push(Reply(429, "Rate limit reached", headers={"Retry-After": "120"}))
    with pytest.raises(ProviderUnavailableError) as caught:
        await openai.complete(REQUEST)

    assert str(caught.value) == (
        "openai unavailable after 1 attempt: it asked to retry after 120 s (Retry-After), "
        "more than the 60 s left of the 60 s retry wait bound; "
        "last: HTTP 429: rate_limit_error: Rate limit reached"
    )
    assert fake_wait.waits == []
    assert openai.attempts == 1


async def test_a_timeout_is_retried(fake: FakeLLM, policy: RetryPolicy) -> None:
    config = ProviderConfig(fake.openai_url, OPENAI_KEY, timeout_seconds=0.2, retry=policy)
    provider = OpenAIProvider(config, environ={})
    fake.push(Reply(hang=True))
    completion = await provider.complete(REQUEST)
    await provider.close()
    assert completion.text == "echo: Say hi"
    assert (provider.attempts, provider.retries) == (2, 1)


async def test_timeouts_that_outlast_the_retries_surface(
    fake: FakeLLM, fake_wait: FakeWait
) -> None:
    policy = RetryPolicy(max_attempts=2, sleep=fake_wait)
    config = ProviderConfig(fake.openai_url, OPENAI_KEY, timeout_seconds=0.2, retry=policy)
    provider = OpenAIProvider(config, environ={})
    fake.push(Reply(hang=True), Reply(hang=True))
    with pytest.raises(ProviderUnavailableError) as caught:
        await provider.complete(REQUEST)
    await provider.close()

    assert str(caught.value) == (
        "openai unavailable after 2 attempts: retries exhausted; last: ReadTimeout"
    )
    assert caught.value.provider_status is None
    assert len(fake.requests) == 2


async def test_connection_refused_is_retried_then_surfaces(fake_wait: FakeWait) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    policy = RetryPolicy(max_attempts=3, sleep=fake_wait)
    config = ProviderConfig(f"http://127.0.0.1:{port}/v1", retry=policy)
    provider = OpenAIProvider(config, environ={})
    with pytest.raises(ProviderUnavailableError, match=r"after 3 attempts.*last: ConnectError"):
        await provider.complete(REQUEST)
    await provider.close()
    assert len(fake_wait.waits) == 2


async def test_a_dropped_connection_is_retried(policy: RetryPolicy) -> None:
    """Through the ``transport`` seam: a server that closes the connection mid-answer."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200, json={"choices": [{"message": {"content": "hi"}}]})

    config = ProviderConfig("http://llm.test/v1", "sk-k", retry=policy)
    provider = OpenAIProvider(config, environ={}, transport=httpx.MockTransport(handler))
    assert (await provider.complete(REQUEST)).text == "hi"
    await provider.close()
    assert [str(c.url) for c in calls] == ["http://llm.test/v1/chat/completions"] * 2


async def test_a_request_that_cannot_be_sent_is_not_retried_and_hides_the_key(
    policy: RetryPolicy,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.LocalProtocolError(f"Illegal header value {request.headers['authorization']}")

    config = ProviderConfig("http://llm.test/v1", "sk-secret", retry=policy)
    provider = OpenAIProvider(config, environ={}, transport=httpx.MockTransport(handler))
    with pytest.raises(ProviderConfigError) as caught:
        await provider.complete(REQUEST)
    await provider.close()
    assert str(caught.value) == (
        "openai request failed: LocalProtocolError: Illegal header value Bearer ***"
    )
    assert provider.attempts == 1
