"""Datasets and their items."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Dataset:
    id: str
    workspace_id: str
    name: str
    description: str | None
    item_count: int
    created_at: datetime
    # Input keys present in every item: lets a job check its prompt's variables
    # against a 100k-item dataset without reading the items.
    common_keys: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class NewItem:
    input: dict[str, Any]
    expected_output: Any = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    dataset_id: str
    position: int
    input: dict[str, Any]
    expected_output: Any = None
    metadata: dict[str, Any] | None = field(default=None)
