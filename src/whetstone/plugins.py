"""Built-ins plus installed plugins, by name: what the ``whetstone.metrics`` and
``whetstone.providers`` entry-point groups add. A plugin with a built-in's name is ignored
(and not even loaded)."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import TypeVar

T = TypeVar("T")


def with_plugins(group: str, builtins: Mapping[str, T]) -> dict[str, T]:
    found = dict(builtins)
    for ep in entry_points(group=group):
        if ep.name not in found:
            found[ep.name] = ep.load()
    return found
