"""Where an HTTP provider's base URL and API key come from.

First the explicit :class:`ProviderConfig` (which the registry fills from the server's
settings, ``WHETSTONE_OPENAI_API_KEY`` …), then the provider's usual environment
variables (``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` …, as its own SDK reads them), then
the public default URL. Providers check this when they are constructed, so a job whose
provider has no key fails before its first call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from whetstone.providers.errors import ProviderConfigError
from whetstone.providers.retry import RetryPolicy


@dataclass(frozen=True)
class ProviderConfig:
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_seconds: float = 60.0  # one attempt; retries are bounded by ``retry``
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A resolved base URL and key, and which variable supplied the key."""

    base_url: str
    api_key: str | None = field(repr=False)
    key_source: str | None
    key_required: bool


@dataclass(frozen=True, slots=True)
class ProviderEnv:
    """One provider's variables: ``{PREFIX}_API_KEY``, ``{PREFIX}_BASE_URL`` and their
    ``WHETSTONE_`` twins, which are settings and win."""

    name: str
    default_base_url: str
    # True for OpenAI-compatible APIs: a server other than the default one (vLLM, Ollama,
    # llama.cpp …) often needs no key, so none is required there.
    key_optional_elsewhere: bool = False

    @property
    def _prefix(self) -> str:
        return self.name.upper()

    @property
    def key_variables(self) -> tuple[str, str]:
        """Where a key may be set, the first winning."""
        return f"WHETSTONE_{self._prefix}_API_KEY", f"{self._prefix}_API_KEY"

    @property
    def base_url_variables(self) -> tuple[str, str]:
        return f"WHETSTONE_{self._prefix}_BASE_URL", f"{self._prefix}_BASE_URL"

    @property
    def key_names(self) -> str:
        """The key's variables as a message names them: ``OPENAI_API_KEY or WHETSTONE_…``."""
        setting, env = self.key_variables
        return f"{env} or {setting}"

    def key_required(self, base_url: str) -> bool:
        if not self.key_optional_elsewhere:
            return True
        return urlsplit(base_url).hostname == urlsplit(self.default_base_url).hostname

    def resolve(self, config: ProviderConfig, environ: Mapping[str, str]) -> Endpoint:
        """Where the base URL and the key come from; checks nothing."""
        setting, env = self.key_variables
        base_url = config.base_url or environ.get(self.base_url_variables[1])
        base_url = (base_url or self.default_base_url).rstrip("/")
        key, source = None, None  # blank counts as unset; stray whitespace is dropped
        if config.api_key and config.api_key.strip():
            key, source = config.api_key.strip(), setting
        elif environ.get(env, "").strip():
            key, source = environ[env].strip(), env
        return Endpoint(base_url, key, source, self.key_required(base_url))

    def endpoint(self, config: ProviderConfig, environ: Mapping[str, str]) -> Endpoint:
        """:meth:`resolve`, refusing an unusable base URL or a missing required key."""
        found = self.resolve(config, environ)
        parts = urlsplit(found.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            setting, env = self.base_url_variables
            raise ProviderConfigError(
                self.name,
                f"{self.name} base URL {found.base_url!r} is not an http(s) URL; "
                f"fix {env} or {setting}",
            )
        if found.api_key is None and found.key_required:
            raise ProviderConfigError(
                self.name, f"{self.name} needs an API key: set {self.key_names}"
            )
        return found
