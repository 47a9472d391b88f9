"""Fixtures of the security tests: those of the streaming tests (a real uvicorn ``server``,
``key`` / ``other_key`` of two workspaces, ``settings_overrides``), reused as they are."""

from __future__ import annotations

from tests.server.streaming.conftest import (
    key,
    other_key,
    running_server,
    server,
    settings,
    settings_overrides,
)

__all__ = ["key", "other_key", "running_server", "server", "settings", "settings_overrides"]
