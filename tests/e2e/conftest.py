"""Whole jobs on the real providers, against the fake LLM server over loopback HTTP.

The services are built with no engine override: the real ``OptimizerFactory`` and
``ProviderPool``, from settings that point both providers at the fake (a test changes them
by parametrizing ``settings_overrides``). No provider variable of the machine running the
tests leaks in. Retry waits are bounded to a few hundredths of a second.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.fake_llm import ANTHROPIC_KEY, OPENAI_KEY, FakeLLM, fake_llm
from tests.support.provider_env import clear_provider_environment
from tests.support.role_llm import RoleResponder
from whetstone.engine.base import EngineFactory
from whetstone.settings import Settings

# USD per million tokens, [input, output]; a price per role model, so that costs show
# which model each call went to.
PRICES: dict[str, tuple[float, float]] = {
    "openai/fake-gpt": (1000.0, 2000.0),
    "openai/fake-task": (1000.0, 2000.0),
    "openai/fake-mutator": (3000.0, 5000.0),
    "openai/fake-judge": (7000.0, 11000.0),
    "anthropic/fake-task": (2000.0, 3000.0),
    "anthropic/fake-mutator": (5000.0, 7000.0),
    "anthropic/fake-judge": (11000.0, 13000.0),
}


@pytest.fixture(autouse=True)
def provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing of the machine's own provider set-up in the environment the pool reads."""
    clear_provider_environment(monkeypatch)


@pytest.fixture
def responder() -> RoleResponder:
    return RoleResponder()


@pytest.fixture
async def fake(responder: RoleResponder) -> AsyncIterator[FakeLLM]:
    async with fake_llm(responder=responder) as server:
        yield server


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Settings fields to change; parametrize it."""
    return {}


@pytest.fixture
def settings(
    settings: Settings,
    fake: FakeLLM,
    settings_overrides: dict[str, Any],
    provider_environment: None,
) -> Settings:
    providers = {
        "openai_base_url": fake.openai_url,
        "openai_api_key": OPENAI_KEY,
        "anthropic_base_url": fake.anthropic_url,
        "anthropic_api_key": ANTHROPIC_KEY,
        "provider_timeout_seconds": 5.0,
        "provider_max_retries": 2,
        "provider_max_wait_seconds": 0.05,
        "prices": PRICES,
    }
    return Settings.model_validate({**settings.model_dump(), **providers, **settings_overrides})


@pytest.fixture
def engine_factory() -> EngineFactory | None:
    """None: ``build_services`` wires the real OptimizerFactory to its ProviderPool."""
    return None
