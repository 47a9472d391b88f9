"""Provider names to factories, and what the server can say about each.

A factory takes the server's settings and the environment and returns a
:class:`Provider`. Built-ins are registered like plugins (entry point group
``whetstone.providers``); a plugin with a built-in's name is ignored. Unknown names raise
an error listing the valid ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from whetstone.plugins import with_plugins
from whetstone.providers.anthropic import ANTHROPIC, AnthropicProvider
from whetstone.providers.base import Provider
from whetstone.providers.config import ProviderConfig
from whetstone.providers.errors import ProviderConfigError
from whetstone.providers.openai import OPENAI, OpenAIProvider
from whetstone.providers.retry import RetryPolicy
from whetstone.providers.sim.provider import SimProvider
from whetstone.settings import Settings

ProviderFactory = Callable[[Settings, Mapping[str, str]], Provider]


def _config(settings: Settings, base_url: str | None, key: SecretStr | None) -> ProviderConfig:
    return ProviderConfig(
        base_url=base_url,
        api_key=key.get_secret_value() if key else None,
        timeout_seconds=settings.provider_timeout_seconds,
        retry=RetryPolicy(
            max_attempts=settings.provider_max_retries + 1,
            max_total_wait=settings.provider_max_wait_seconds,
        ),
    )


def openai_config(settings: Settings) -> ProviderConfig:
    return _config(settings, settings.openai_base_url, settings.openai_api_key)


def anthropic_config(settings: Settings) -> ProviderConfig:
    return _config(settings, settings.anthropic_base_url, settings.anthropic_api_key)


def openai_provider(settings: Settings, environ: Mapping[str, str]) -> OpenAIProvider:
    return OpenAIProvider(openai_config(settings), environ=environ)


def anthropic_provider(settings: Settings, environ: Mapping[str, str]) -> AnthropicProvider:
    return AnthropicProvider(anthropic_config(settings), environ=environ)


def sim_provider(settings: Settings, environ: Mapping[str, str]) -> SimProvider:
    return SimProvider()


# Built-ins with an embeddings endpoint (a plugin's is found when a job uses it).
EMBEDDING_BUILTINS = frozenset({"openai"})

BUILTIN: dict[str, ProviderFactory] = {
    "openai": openai_provider,
    "anthropic": anthropic_provider,
    "sim": sim_provider,
}


def available_providers() -> dict[str, ProviderFactory]:
    """Built-ins plus every installed ``whetstone.providers`` entry point."""
    return with_plugins("whetstone.providers", BUILTIN)


def build_provider(
    name: str,
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    registry: Mapping[str, ProviderFactory] | None = None,
) -> Provider:
    """The provider ``name``; :class:`ProviderConfigError` if unknown or not configured."""
    registry = registry if registry is not None else available_providers()
    factory = registry.get(name)
    if factory is None:
        raise ProviderConfigError(
            name, f"unknown provider {name!r}; valid: {', '.join(sorted(registry))}"
        )
    return factory(settings, os.environ if environ is None else environ)


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """What ``GET /api/models`` tells about a provider; never the key itself.
    ``None`` means unknown: a plugin's needs are its own."""

    name: str
    builtin: bool
    base_url: str | None = None
    key_required: bool | None = None
    key_set: bool | None = None
    key_source: str | None = None  # the variable the key comes from, e.g. OPENAI_API_KEY
    key_variables: tuple[str, ...] = ()  # where a key may be set, the first winning

    @property
    def ready(self) -> bool | None:
        if self.key_required is None:
            return None
        return bool(self.key_set) or not self.key_required

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "builtin": self.builtin,
            "baseUrl": self.base_url,
            "keyRequired": self.key_required,
            "keySet": self.key_set,
            "keySource": self.key_source,
            "keyVariables": list(self.key_variables),
            "ready": self.ready,
        }


def provider_status(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    registry: Mapping[str, ProviderFactory] | None = None,
) -> list[ProviderStatus]:
    """Each available provider's status, by name; builds no provider."""
    environ = os.environ if environ is None else environ
    registry = registry if registry is not None else available_providers()
    http = {"openai": (OPENAI, openai_config), "anthropic": (ANTHROPIC, anthropic_config)}
    statuses = []
    for name in sorted(registry):
        builtin = BUILTIN.get(name) is registry[name]
        if builtin and name in http:
            env, config = http[name]
            found = env.resolve(config(settings), environ)
            status = ProviderStatus(
                name,
                builtin,
                found.base_url,
                found.key_required,
                found.api_key is not None,
                found.key_source,
                env.key_variables,
            )
        elif builtin:  # sim: nothing to configure
            status = ProviderStatus(name, builtin, key_required=False, key_set=False)
        else:
            status = ProviderStatus(name, builtin)
        statuses.append(status)
    return statuses


class ProviderPool:
    """Providers built on first use and kept, one HTTP connection pool each, until
    :meth:`close`: build one per server and ask it for a job's providers when the job
    starts, so a provider that is not configured fails the job before any call."""

    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str] | None = None,
        registry: Mapping[str, ProviderFactory] | None = None,
    ) -> None:
        self._settings = settings
        self._environ = os.environ if environ is None else environ
        self._registry = dict(registry if registry is not None else available_providers())
        self._built: dict[str, Provider] = {}

    def get(self, name: str) -> Provider:
        if name not in self._built:
            self._built[name] = build_provider(name, self._settings, self._environ, self._registry)
        return self._built[name]

    async def close(self) -> None:
        built, self._built = self._built, {}
        for provider in built.values():
            await provider.close()
