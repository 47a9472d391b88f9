"""The provider registry: built-ins and entry points, building from settings, the status
behind ``GET /api/models``, and the pool of built providers."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

import whetstone.plugins as plugins_module
from tests.support.fake_llm import ANTHROPIC_KEY, OPENAI_KEY, FakeLLM
from whetstone.providers import BUILTIN_PROVIDERS
from whetstone.providers.anthropic import AnthropicProvider
from whetstone.providers.base import ChatMessage, CompletionRequest
from whetstone.providers.config import ProviderConfig
from whetstone.providers.errors import ProviderConfigError
from whetstone.providers.openai import OpenAIProvider
from whetstone.providers.registry import (
    BUILTIN,
    ProviderPool,
    ProviderStatus,
    available_providers,
    build_provider,
    openai_config,
    provider_status,
)
from whetstone.providers.sim.provider import SimProvider
from whetstone.settings import Settings

REQUEST = CompletionRequest("model-x", (ChatMessage("user", "Say hi"),))


class PluginProvider:
    name = "plugin"

    async def complete(self, request: CompletionRequest) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        return None


def plugin_factory(settings: Settings, environ: Mapping[str, str]) -> PluginProvider:
    return PluginProvider()


def settings(tmp_path: Path, **values: Any) -> Settings:
    """Settings with every provider field given, so WHETSTONE_* variables of the machine
    running the tests do not leak in."""
    fields: dict[str, Any] = {
        "openai_base_url": None,
        "openai_api_key": None,
        "anthropic_base_url": None,
        "anthropic_api_key": None,
    }
    return Settings(data_dir=tmp_path, **{**fields, **values})


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed entry points: a new provider, and one that tries to replace ``openai``."""
    found = [
        EntryPoint("plugin", f"{__name__}:plugin_factory", "whetstone.providers"),
        EntryPoint("openai", f"{__name__}:plugin_factory", "whetstone.providers"),
    ]

    def entry_points(*, group: str) -> list[EntryPoint]:
        return [ep for ep in found if ep.group == group]

    monkeypatch.setattr(plugins_module, "entry_points", entry_points)


def test_the_builtins_are_the_names_the_server_accepts() -> None:
    assert tuple(BUILTIN) == BUILTIN_PROVIDERS


@pytest.mark.usefixtures("plugins")
def test_entry_points_add_providers_and_builtins_win() -> None:
    found = available_providers()
    assert set(found) == {"openai", "anthropic", "sim", "plugin"}
    assert found["plugin"] is plugin_factory
    assert found["openai"] is BUILTIN["openai"]


def test_an_unknown_provider_lists_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError) as caught:
        build_provider("gemini", settings(tmp_path), environ={})
    assert str(caught.value) == "unknown provider 'gemini'; valid: anthropic, openai, sim"


async def test_builds_each_builtin_from_settings(tmp_path: Path) -> None:
    s = settings(tmp_path, openai_api_key="sk-o", anthropic_api_key="sk-a")
    built = [build_provider(name, s, environ={}) for name in BUILTIN_PROVIDERS]
    assert [type(p) for p in built] == [OpenAIProvider, AnthropicProvider, SimProvider]
    for provider in built:
        await provider.close()


def test_a_provider_without_a_key_fails_when_built(tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match="set ANTHROPIC_API_KEY or WHETSTONE_ANTHROPIC"):
        build_provider("anthropic", settings(tmp_path), environ={})


async def test_settings_win_over_the_providers_variables(tmp_path: Path, fake: FakeLLM) -> None:
    s = settings(tmp_path, openai_base_url=fake.openai_url, openai_api_key=OPENAI_KEY)
    environ = {"OPENAI_API_KEY": "sk-from-env", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    provider = build_provider("openai", s, environ=environ)
    await provider.complete(REQUEST)
    await provider.close()
    assert fake.requests[0].headers["authorization"] == f"Bearer {OPENAI_KEY}"


def test_settings_come_from_whetstone_variables_and_hide_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WHETSTONE_OPENAI_API_KEY", "sk-secret-value")
    monkeypatch.setenv("WHETSTONE_PROVIDER_MAX_RETRIES", "2")
    monkeypatch.setenv("WHETSTONE_PROVIDER_MAX_WAIT_SECONDS", "7.5")
    monkeypatch.setenv("WHETSTONE_PROVIDER_TIMEOUT_SECONDS", "12")
    s = Settings(data_dir=tmp_path)
    assert s.openai_api_key == SecretStr("sk-secret-value")
    assert "sk-secret-value" not in repr(s)

    config = openai_config(s)
    assert config.api_key == "sk-secret-value"
    assert "sk-secret-value" not in repr(config)
    assert config.timeout_seconds == 12
    assert (config.retry.max_attempts, config.retry.max_total_wait) == (3, 7.5)


def test_provider_defaults() -> None:
    s = Settings()
    assert (s.provider_timeout_seconds, s.provider_max_retries, s.provider_max_wait_seconds) == (
        60,
        5,
        60,
    )
    assert ProviderConfig().retry.max_attempts == 6


@pytest.mark.usefixtures("plugins")
def test_status_says_where_each_key_comes_from_and_never_the_key(tmp_path: Path) -> None:
    s = settings(tmp_path, openai_api_key="sk-from-settings")
    environ = {"OPENAI_API_KEY": "sk-ignored", "ANTHROPIC_API_KEY": "sk-ant-from-env"}
    statuses = {st.name: st for st in provider_status(s, environ)}

    assert statuses["openai"] == ProviderStatus(
        "openai",
        builtin=True,
        base_url="https://api.openai.com/v1",
        key_required=True,
        key_set=True,
        key_source="WHETSTONE_OPENAI_API_KEY",
        key_variables=("WHETSTONE_OPENAI_API_KEY", "OPENAI_API_KEY"),
    )
    assert statuses["anthropic"].key_source == "ANTHROPIC_API_KEY"
    assert statuses["anthropic"].base_url == "https://api.anthropic.com"
    assert statuses["sim"].to_wire() == {
        "name": "sim",
        "builtin": True,
        "baseUrl": None,
        "keyRequired": False,
        "keySet": False,
        "keySource": None,
        "keyVariables": [],
        "ready": True,
    }
    assert statuses["plugin"].to_wire()["ready"] is None
    assert "sk-" not in repr([st.to_wire() for st in statuses.values()])


def test_status_of_a_local_openai_compatible_server_without_a_key(tmp_path: Path) -> None:
    s = settings(tmp_path)
    environ = {"OPENAI_BASE_URL": "http://localhost:11434/v1/"}
    [anthropic, openai, _] = provider_status(s, environ)
    assert openai.to_wire() == {
        "name": "openai",
        "builtin": True,
        "baseUrl": "http://localhost:11434/v1",
        "keyRequired": False,
        "keySet": False,
        "keySource": None,
        "keyVariables": ["WHETSTONE_OPENAI_API_KEY", "OPENAI_API_KEY"],
        "ready": True,
    }
    assert (anthropic.ready, anthropic.key_set) == (False, False)


async def test_the_pool_builds_each_provider_once_and_closes_them(
    tmp_path: Path, fake: FakeLLM
) -> None:
    s = settings(tmp_path, anthropic_base_url=fake.anthropic_url, anthropic_api_key=ANTHROPIC_KEY)
    pool = ProviderPool(s, environ={})
    provider = pool.get("anthropic")
    assert pool.get("anthropic") is provider
    assert (await provider.complete(REQUEST)).text == "echo: Say hi"
    with pytest.raises(ProviderConfigError, match="needs an API key"):
        pool.get("openai")
    with pytest.raises(ProviderConfigError, match="unknown provider 'nope'"):
        pool.get("nope")
    await pool.close()
    assert isinstance(provider, AnthropicProvider)
    assert provider.http.closed
