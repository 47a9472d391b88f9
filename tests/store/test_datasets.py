"""Datasets: items in insertion order, paged by position, common keys, expected outputs."""

from __future__ import annotations

import pytest

from whetstone.domain.dataset import Dataset, NewItem
from whetstone.domain.job import Workspace
from whetstone.errors import NotFound
from whetstone.store.sql import SQLStore

BIG = 100_000
BATCH = 10_000


def _items(start: int, n: int) -> list[NewItem]:
    return [NewItem({"i": i, "q": f"question {i}"}, f"answer {i}") for i in range(start, start + n)]


async def test_create_with_items(store: SQLStore, ws: Workspace) -> None:
    ds = await store.datasets.create(ws.id, "qa", "desc", _items(0, 3))
    assert (ds.name, ds.description, ds.item_count, ds.workspace_id) == ("qa", "desc", 3, ws.id)
    assert ds.common_keys == ("i", "q")
    assert await store.datasets.get(ws.id, ds.id) == ds


async def test_items_keep_insertion_order_across_calls(store: SQLStore, ws: Workspace) -> None:
    ds = await store.datasets.create(ws.id, "qa", None, _items(0, 3))
    assert await store.datasets.add_items(ws.id, ds.id, _items(3, 4)) == 4
    assert await store.datasets.add_items(ws.id, ds.id, []) == 0
    assert await store.datasets.add_items(ws.id, ds.id, _items(7, 2)) == 2
    page = await store.datasets.items(ws.id, ds.id, limit=100, offset=0)
    assert [it.input["i"] for it in page.items] == list(range(9))
    assert [it.position for it in page.items] == list(range(9))
    assert [it.expected_output for it in page.items] == [f"answer {i}" for i in range(9)]
    assert {it.dataset_id for it in page.items} == {ds.id}
    assert len({it.id for it in page.items}) == 9
    assert page.total == 9
    assert (await store.datasets.get(ws.id, ds.id)).item_count == 9


async def test_items_round_trip_values(store: SQLStore, ws: Workspace) -> None:
    item = NewItem({"q": "ü ✓", "n": [1, 2.5, None]}, {"label": "x"}, {"source": "s", "w": 2})
    ds = await store.datasets.create(ws.id, "qa", None, [item, NewItem({"q": "bare"})])
    got = (await store.datasets.items(ws.id, ds.id, limit=10, offset=0)).items
    assert (got[0].input, got[0].expected_output, got[0].metadata) == (
        item.input,
        item.expected_output,
        item.metadata,
    )
    assert (got[1].expected_output, got[1].metadata) == (None, None)


async def test_items_pages_by_offset_and_limit(store: SQLStore, ws: Workspace) -> None:
    ds = await store.datasets.create(ws.id, "qa", None, _items(0, 10))
    await store.datasets.add_items(ws.id, ds.id, _items(10, 5))
    seen: list[int] = []
    for offset in range(0, 15, 4):
        page = await store.datasets.items(ws.id, ds.id, limit=4, offset=offset)
        assert (page.total, page.limit, page.offset) == (15, 4, offset)
        assert [it.position for it in page.items] == list(range(offset, min(offset + 4, 15)))
        assert page.has_more is (offset + 4 < 15)
        seen += [it.input["i"] for it in page.items]
    assert seen == list(range(15))
    beyond = await store.datasets.items(ws.id, ds.id, limit=4, offset=15)
    assert (beyond.items, beyond.total, beyond.has_more) == ([], 15, False)


async def test_items_of_two_datasets_do_not_mix(store: SQLStore, ws: Workspace) -> None:
    a = await store.datasets.create(ws.id, "a", None, _items(0, 3))
    b = await store.datasets.create(ws.id, "b", None, _items(100, 2))
    await store.datasets.add_items(ws.id, a.id, _items(3, 1))
    pa = await store.datasets.items(ws.id, a.id, limit=10, offset=0)
    pb = await store.datasets.items(ws.id, b.id, limit=10, offset=0)
    assert [it.input["i"] for it in pa.items] == [0, 1, 2, 3]
    assert [it.input["i"] for it in pb.items] == [100, 101]
    assert (pa.total, pb.total) == (4, 2)


async def test_common_keys_is_the_intersection(store: SQLStore, ws: Workspace) -> None:
    first = [NewItem({"a": 1, "b": 2, "c": 3}), NewItem({"b": 1, "c": 2, "a": 0, "d": 4})]
    ds = await store.datasets.create(ws.id, "k", None, first)
    assert ds.common_keys == ("a", "b", "c")
    await store.datasets.add_items(ws.id, ds.id, [NewItem({"c": 1, "b": 2, "z": 0})])
    assert (await store.datasets.get(ws.id, ds.id)).common_keys == ("b", "c")
    await store.datasets.add_items(ws.id, ds.id, [NewItem({"x": 1})])
    assert (await store.datasets.get(ws.id, ds.id)).common_keys == ()


async def test_common_keys_of_an_empty_dataset(store: SQLStore, ws: Workspace) -> None:
    ds = await store.datasets.create(ws.id, "empty", None, [])
    assert (ds.item_count, ds.common_keys) == (0, None)
    await store.datasets.add_items(ws.id, ds.id, [NewItem({"k": 1, "j": 2})])
    assert (await store.datasets.get(ws.id, ds.id)).common_keys == ("j", "k")


async def test_has_expected_outputs(store: SQLStore, ws: Workspace) -> None:
    none = await store.datasets.create(ws.id, "none", None, [NewItem({"a": 1})] * 3)
    explicit_none = [NewItem({"a": 1}, None), NewItem({"a": 2}, expected_output=None)]
    nulls = await store.datasets.create(ws.id, "nulls", None, explicit_none)
    some = await store.datasets.create(ws.id, "some", None, [NewItem({"a": 1}), *_items(0, 1)])
    falsy = await store.datasets.create(ws.id, "falsy", None, [NewItem({"a": 1}, "")])
    assert await store.datasets.has_expected_outputs(none.id) is False
    assert await store.datasets.has_expected_outputs(nulls.id) is False
    assert await store.datasets.has_expected_outputs(some.id) is True
    assert await store.datasets.has_expected_outputs(falsy.id) is True


async def test_has_expected_outputs_after_add_items(store: SQLStore, ws: Workspace) -> None:
    ds = await store.datasets.create(ws.id, "late", None, [NewItem({"a": 1})])
    assert await store.datasets.has_expected_outputs(ds.id) is False
    await store.datasets.add_items(ws.id, ds.id, [NewItem({"a": 2}, {"label": 0})])
    assert await store.datasets.has_expected_outputs(ds.id) is True


async def test_page_of_datasets(store: SQLStore, ws: Workspace, other_ws: Workspace) -> None:
    made = [await store.datasets.create(ws.id, f"d{i}", None, []) for i in range(5)]
    await store.datasets.create(other_ws.id, "theirs", None, [])
    first = await store.datasets.page(ws.id, limit=3, offset=0)
    rest = await store.datasets.page(ws.id, limit=3, offset=3)
    assert (first.total, first.has_more, rest.has_more) == (5, True, False)
    assert [d.id for d in first.items + rest.items] == [d.id for d in reversed(made)]


async def test_foreign_workspace_gets_not_found(
    store: SQLStore, ws: Workspace, other_ws: Workspace, dataset: Dataset
) -> None:
    with pytest.raises(NotFound):
        await store.datasets.get(other_ws.id, dataset.id)
    with pytest.raises(NotFound):
        await store.datasets.items(other_ws.id, dataset.id, limit=10, offset=0)
    with pytest.raises(NotFound):
        await store.datasets.add_items(other_ws.id, dataset.id, _items(0, 1))
    with pytest.raises(NotFound):
        await store.datasets.get(ws.id, "ds_missing")
    page = await store.datasets.items(ws.id, dataset.id, limit=10, offset=0)
    assert page.total == len(page.items) == dataset.item_count == 2


async def test_large_dataset_is_paged(store: SQLStore, ws: Workspace) -> None:
    ds = await store.datasets.create(ws.id, "big", None, _items(0, BATCH))
    for start in range(BATCH, BIG, BATCH):
        await store.datasets.add_items(ws.id, ds.id, _items(start, BATCH))
    got = await store.datasets.get(ws.id, ds.id)
    assert (got.item_count, got.common_keys) == (BIG, ("i", "q"))

    last = await store.datasets.items(ws.id, ds.id, limit=50, offset=BIG - 10)
    assert [it.input["i"] for it in last.items] == list(range(BIG - 10, BIG))
    assert [it.position for it in last.items] == list(range(BIG - 10, BIG))
    assert (last.total, last.has_more) == (BIG, False)

    middle = await store.datasets.items(ws.id, ds.id, limit=100, offset=54_321)
    assert len(middle.items) == 100
    assert [it.input["i"] for it in middle.items] == list(range(54_321, 54_421))
    assert (middle.total, middle.has_more) == (BIG, True)

    boundary = await store.datasets.items(ws.id, ds.id, limit=2, offset=BATCH - 1)
    assert [it.input["i"] for it in boundary.items] == [BATCH - 1, BATCH]
