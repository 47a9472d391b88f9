"""Datasets and items. Items are read in pages by position; nothing loads a whole dataset."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from whetstone.clock import Clock, new_id
from whetstone.domain.dataset import Dataset, Item, NewItem
from whetstone.errors import NotFound
from whetstone.store.base import Page
from whetstone.store.database import Database
from whetstone.store.tables import dataset_items, datasets


def _dataset(row: Any) -> Dataset:
    return Dataset(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        description=row.description,
        item_count=row.item_count,
        created_at=row.created_at,
        common_keys=tuple(row.common_keys) if row.common_keys is not None else None,
    )


def _item(row: Any) -> Item:
    return Item(
        id=row.id,
        dataset_id=row.dataset_id,
        position=row.position,
        input=row.input,
        expected_output=row.expected_output,
        metadata=row.metadata,
    )


def _common_keys(current: list[str] | None, items: list[NewItem]) -> list[str] | None:
    keys = set(current) if current is not None else None
    for item in items:
        keys = set(item.input) if keys is None else keys & set(item.input)
    return sorted(keys) if keys is not None else None


class SQLDatasetStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def create(
        self, workspace_id: str, name: str, description: str | None, items: list[NewItem]
    ) -> Dataset:
        dataset_id = new_id("ds")
        async with self._db.write() as conn:
            await conn.execute(
                datasets.insert().values(
                    id=dataset_id,
                    workspace_id=workspace_id,
                    name=name,
                    description=description,
                    item_count=0,
                    common_keys=None,
                    created_at=self._clock.now(),
                )
            )
            await self._append(conn, dataset_id, 0, None, items)
        return await self.get(workspace_id, dataset_id)

    async def add_items(self, workspace_id: str, dataset_id: str, items: list[NewItem]) -> int:
        async with self._db.write() as conn:
            row = (
                await conn.execute(
                    select(datasets.c.item_count, datasets.c.common_keys).where(
                        datasets.c.id == dataset_id, datasets.c.workspace_id == workspace_id
                    )
                )
            ).first()
            if row is None:
                raise NotFound(f"dataset {dataset_id!r} not found", details={"id": dataset_id})
            await self._append(conn, dataset_id, row.item_count, row.common_keys, items)
        return len(items)

    async def _append(
        self,
        conn: AsyncConnection,
        dataset_id: str,
        count: int,
        common: list[str] | None,
        items: list[NewItem],
    ) -> None:
        if not items:
            return
        await conn.execute(
            dataset_items.insert(),
            [
                {
                    "id": new_id("itm"),
                    "dataset_id": dataset_id,
                    "position": count + i,
                    "input": item.input,
                    "expected_output": item.expected_output,
                    "metadata": item.metadata,
                }
                for i, item in enumerate(items)
            ],
        )
        await conn.execute(
            update(datasets)
            .where(datasets.c.id == dataset_id)
            .values(item_count=count + len(items), common_keys=_common_keys(common, items))
        )

    async def get(self, workspace_id: str, dataset_id: str) -> Dataset:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(datasets).where(
                        datasets.c.id == dataset_id, datasets.c.workspace_id == workspace_id
                    )
                )
            ).first()
        if row is None:
            raise NotFound(f"dataset {dataset_id!r} not found", details={"id": dataset_id})
        return _dataset(row)

    async def page(self, workspace_id: str, *, limit: int, offset: int) -> Page[Dataset]:
        where = datasets.c.workspace_id == workspace_id
        async with self._db.read() as conn:
            total = (
                await conn.execute(select(func.count()).select_from(datasets).where(where))
            ).scalar_one()
            rows = await conn.execute(
                select(datasets)
                .where(where)
                .order_by(datasets.c.created_at.desc(), datasets.c.id)
                .limit(limit)
                .offset(offset)
            )
            return Page([_dataset(r) for r in rows], total, limit, offset)

    async def items(
        self, workspace_id: str, dataset_id: str, *, limit: int, offset: int
    ) -> Page[Item]:
        dataset = await self.get(workspace_id, dataset_id)
        async with self._db.read() as conn:
            rows = await conn.execute(
                select(dataset_items)
                .where(
                    dataset_items.c.dataset_id == dataset_id,
                    dataset_items.c.position >= offset,
                )
                .order_by(dataset_items.c.position)
                .limit(limit)
            )
            return Page([_item(r) for r in rows], dataset.item_count, limit, offset)

    async def items_at(self, dataset_id: str, positions: list[int]) -> list[Item]:
        """The items at ``positions``, in that order (the engine's minibatches and splits)."""
        found: dict[int, Item] = {}
        async with self._db.read() as conn:
            for start in range(0, len(positions), 500):
                chunk = positions[start : start + 500]
                rows = await conn.execute(
                    select(dataset_items).where(
                        dataset_items.c.dataset_id == dataset_id,
                        dataset_items.c.position.in_(chunk),
                    )
                )
                found.update((r.position, _item(r)) for r in rows)
        missing = [p for p in positions if p not in found]
        if missing:
            raise NotFound(f"dataset {dataset_id!r} has no item at position(s) {missing[:5]}")
        return [found[p] for p in positions]

    async def has_expected_outputs(self, dataset_id: str) -> bool:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(dataset_items.c.id)
                    .where(
                        dataset_items.c.dataset_id == dataset_id,
                        dataset_items.c.expected_output.is_not(None),
                    )
                    .limit(1)
                )
            ).first()
        return row is not None
