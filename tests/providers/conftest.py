"""Fixtures for the HTTP providers: the fake LLM server, a retry policy that records its
waits instead of waiting, and providers pointed at the server."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from tests.support.fake_llm import ANTHROPIC_KEY, OPENAI_KEY, FakeLLM, FakeWait, fake_llm
from whetstone.clock import ManualClock
from whetstone.providers.anthropic import AnthropicProvider
from whetstone.providers.config import ProviderConfig
from whetstone.providers.openai import OpenAIProvider
from whetstone.providers.retry import RetryPolicy


@pytest.fixture
def fake_wait() -> FakeWait:
    return FakeWait()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def policy(fake_wait: FakeWait, clock: ManualClock) -> RetryPolicy:
    return RetryPolicy(rng=random.Random(7), sleep=fake_wait, clock=clock)


@pytest.fixture
async def fake() -> AsyncIterator[FakeLLM]:
    async with fake_llm() as server:
        yield server


@pytest.fixture
async def openai(fake: FakeLLM, policy: RetryPolicy) -> AsyncIterator[OpenAIProvider]:
    config = ProviderConfig(fake.openai_url, OPENAI_KEY, timeout_seconds=5, retry=policy)
    provider = OpenAIProvider(config, environ={})
    yield provider
    await provider.close()


@pytest.fixture
async def anthropic(fake: FakeLLM, policy: RetryPolicy) -> AsyncIterator[AnthropicProvider]:
    config = ProviderConfig(fake.anthropic_url, ANTHROPIC_KEY, timeout_seconds=5, retry=policy)
    provider = AnthropicProvider(config, environ={})
    yield provider
    await provider.close()
