"""The provider variables of the environment, which tests clear so that the keys of the
machine running them never leak in."""

from __future__ import annotations

import pytest

PROVIDER_VARIABLES = tuple(
    f"{prefix}{provider}_{what}"
    for prefix in ("", "WHETSTONE_")
    for provider in ("OPENAI", "ANTHROPIC")
    for what in ("API_KEY", "BASE_URL")
)


def clear_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OPENAI_*, ANTHROPIC_* key or base URL, nor their WHETSTONE_ twins."""
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
