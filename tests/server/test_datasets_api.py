"""``/api/datasets``: creation, items in insertion order, paging."""

from __future__ import annotations

from typing import Any

from tests.server.helpers import DATASET_FIELDS, ITEM_FIELDS, assert_fields, assert_list_meta
from tests.support.api import Api

ITEMS: list[dict[str, Any]] = [
    {"input": {"q": "a"}, "expectedOutput": "A"},
    {"input": {"q": "b", "extra": 1}, "expectedOutput": {"answer": ["B", 2]}, "metadata": {"k": 1}},
    {"input": {"q": "c"}},
    {"input": {"q": "d"}, "expectedOutput": 4},
    {"input": {"q": "e"}, "expectedOutput": None, "metadata": {"tag": "x"}},
]


async def test_create_dataset_with_items(api: Api) -> None:
    body = {"name": "qa set", "description": "five items", "items": ITEMS}
    response = await api.call("POST", "/api/datasets", 201, json=body)
    assert set(response) == {"data", "meta"}
    ds = response["data"]
    assert_fields(ds, DATASET_FIELDS)
    assert (ds["name"], ds["description"], ds["itemCount"]) == ("qa set", "five items", 5)
    assert (await api.call("GET", f"/api/datasets/{ds['id']}"))["data"] == ds
    items = await api.call("GET", f"/api/datasets/{ds['id']}/items")
    assert_list_meta(items, total=5, limit=items["meta"]["limit"], offset=0)
    for sent, got in zip(ITEMS, items["data"], strict=True):
        assert_fields(got, ITEM_FIELDS)
        assert got["input"] == sent["input"]
        assert got.get("expectedOutput") == sent.get("expectedOutput")
        assert got.get("metadata") == sent.get("metadata")
    assert len({i["id"] for i in items["data"]}) == 5


async def test_create_empty_dataset_then_add_items(api: Api) -> None:
    ds = (await api.call("POST", "/api/datasets", 201, json={"name": "empty"}))["data"]
    assert ds["itemCount"] == 0
    assert ds["description"] is None
    empty = await api.call("GET", f"/api/datasets/{ds['id']}/items")
    assert empty["data"] == []
    assert empty["meta"]["total"] == 0
    added = await api.call(
        "POST", f"/api/datasets/{ds['id']}/items", 201, json={"items": ITEMS[:2]}
    )
    assert set(added) == {"data", "meta"}
    assert added["data"] == {"added": 2}
    added = await api.call(
        "POST", f"/api/datasets/{ds['id']}/items", 201, json={"items": ITEMS[2:]}
    )
    assert added["data"] == {"added": 3}
    assert (await api.call("GET", f"/api/datasets/{ds['id']}"))["data"]["itemCount"] == 5
    items = (await api.call("GET", f"/api/datasets/{ds['id']}/items"))["data"]
    assert [i["input"]["q"] for i in items] == ["a", "b", "c", "d", "e"]


async def test_items_paging(api: Api) -> None:
    items = [{"input": {"n": i}, "expectedOutput": str(i)} for i in range(7)]
    ds = await api.dataset(items)
    seen: list[int] = []
    for offset in (0, 3, 6):
        body = await api.call("GET", f"/api/datasets/{ds['id']}/items?limit=3&offset={offset}")
        assert_list_meta(body, total=7, limit=3, offset=offset)
        seen += [i["input"]["n"] for i in body["data"]]
    assert seen == list(range(7))
    past = await api.call("GET", f"/api/datasets/{ds['id']}/items?limit=3&offset=7")
    assert past["data"] == []
    assert past["meta"]["hasMore"] is False


async def test_list_datasets_newest_first_with_paging(api: Api) -> None:
    created = [await api.dataset(name=f"d{i}") for i in range(3)]
    body = await api.call("GET", "/api/datasets?limit=2")
    assert_list_meta(body, total=3, limit=2, offset=0)
    assert [d["id"] for d in body["data"]] == [created[2]["id"], created[1]["id"]]
    rest = await api.call("GET", "/api/datasets?limit=2&offset=2")
    assert_list_meta(rest, total=3, limit=2, offset=2)
    assert [d["id"] for d in rest["data"]] == [created[0]["id"]]
    for d in body["data"] + rest["data"]:
        assert_fields(d, DATASET_FIELDS)
        assert d["itemCount"] == 2
