"""``ListItemSource``: the ``ItemSource`` protocol over a list, for running an engine
without a store (benchmarks, tests, notebooks)."""

from __future__ import annotations

from whetstone.domain.dataset import Item


class ListItemSource:
    def __init__(self, items: list[Item]) -> None:
        self._items = items

    async def page(self, offset: int, limit: int) -> list[Item]:
        return self._items[offset : offset + limit]

    async def at(self, positions: list[int]) -> list[Item]:
        return [self._items[p] for p in positions]

    async def has_expected_outputs(self) -> bool:
        return any(i.expected_output is not None for i in self._items)
