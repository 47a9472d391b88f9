"""Prompts: numbered versions with one latest, paging of latest versions, workspace isolation."""

from __future__ import annotations

import pytest

from whetstone.domain.job import Workspace
from whetstone.domain.prompt import Message, Prompt, PromptBody, PromptSource
from whetstone.errors import InvalidRequest, NotFound
from whetstone.store.sql import SQLStore


def _body(text: str) -> PromptBody:
    return PromptBody(template=text)


async def _three_versions(store: SQLStore, ws: Workspace) -> list[Prompt]:
    v1 = await store.prompts.create(ws.id, "p", _body("one {x}"), "first", ["a", "b"])
    v2 = await store.prompts.add_version(ws.id, v1.id, _body("two {x}"))
    v3 = await store.prompts.add_version(ws.id, v2.id, _body("three {x}"), "third")
    return [v1, v2, v3]


async def test_create_returns_version_one(store: SQLStore, ws: Workspace) -> None:
    p = await store.prompts.create(ws.id, "p", _body("Hi {name}"), "desc", ["t1", "t2"])
    assert (p.version, p.is_latest, p.family_id) == (1, True, p.id)
    assert (p.name, p.description, p.tags) == ("p", "desc", ("t1", "t2"))
    assert p.body == _body("Hi {name}")
    assert p.source is PromptSource.USER
    assert p.job_id is None
    assert p.workspace_id == ws.id
    assert await store.prompts.get(ws.id, p.id) == p


async def test_versions_are_numbered_with_one_latest(store: SQLStore, ws: Workspace) -> None:
    v1, v2, v3 = await _three_versions(store, ws)
    assert [v.version for v in (v1, v2, v3)] == [1, 2, 3]
    assert len({v1.id, v2.id, v3.id}) == 3
    assert {v.family_id for v in (v1, v2, v3)} == {v1.id}
    fresh = [await store.prompts.get(ws.id, v.id) for v in (v1, v2, v3)]
    assert [v.is_latest for v in fresh] == [False, False, True]
    assert [v.body.template for v in fresh] == ["one {x}", "two {x}", "three {x}"]


async def test_new_version_inherits_name_tags_and_description(
    store: SQLStore, ws: Workspace
) -> None:
    _, v2, v3 = await _three_versions(store, ws)
    assert (v2.name, v2.tags, v2.description) == ("p", ("a", "b"), "first")
    assert v3.description == "third"


async def test_versions_oldest_first_from_any_version(store: SQLStore, ws: Workspace) -> None:
    chain = await _three_versions(store, ws)
    ids = [v.id for v in chain]
    for v in chain:
        listed = await store.prompts.versions(ws.id, v.id)
        assert [p.id for p in listed] == ids
        assert [p.version for p in listed] == [1, 2, 3]
        assert [p.is_latest for p in listed] == [False, False, True]


async def test_families_are_independent(store: SQLStore, ws: Workspace) -> None:
    a = await store.prompts.create(ws.id, "a", _body("a"))
    b = await store.prompts.create(ws.id, "b", _body("b"))
    b2 = await store.prompts.add_version(ws.id, b.id, _body("b2"))
    assert b2.version == 2
    assert (await store.prompts.get(ws.id, a.id)).is_latest
    assert [p.id for p in await store.prompts.versions(ws.id, a.id)] == [a.id]


async def test_duplicate_name_is_rejected(store: SQLStore, ws: Workspace) -> None:
    first = await store.prompts.create(ws.id, "dup", _body("x"))
    with pytest.raises(InvalidRequest) as info:
        await store.prompts.create(ws.id, "dup", _body("y"))
    assert info.value.details == {"name": "already exists"}
    assert [p.id for p in await store.prompts.versions(ws.id, first.id)] == [first.id]
    page = await store.prompts.page(ws.id, name="dup", limit=10, offset=0)
    assert page.total == 1


async def test_same_name_in_another_workspace_is_allowed(
    store: SQLStore, ws: Workspace, other_ws: Workspace
) -> None:
    mine = await store.prompts.create(ws.id, "shared", _body("x"))
    theirs = await store.prompts.create(other_ws.id, "shared", _body("y"))
    assert mine.id != theirs.id


async def test_page_lists_only_latest_versions(store: SQLStore, ws: Workspace) -> None:
    _, _, v3 = await _three_versions(store, ws)
    other = await store.prompts.create(ws.id, "q", _body("q"))
    page = await store.prompts.page(ws.id, name=None, limit=10, offset=0)
    assert [p.id for p in page.items] == [other.id, v3.id]  # newest first
    assert page.total == 2
    assert not page.has_more


async def test_page_filters_by_name(store: SQLStore, ws: Workspace) -> None:
    _, _, v3 = await _three_versions(store, ws)
    await store.prompts.create(ws.id, "q", _body("q"))
    page = await store.prompts.page(ws.id, name="p", limit=10, offset=0)
    assert [p.id for p in page.items] == [v3.id]
    assert page.total == 1
    empty = await store.prompts.page(ws.id, name="nope", limit=10, offset=0)
    assert (empty.items, empty.total, empty.has_more) == ([], 0, False)


async def test_page_total_limit_offset_has_more(store: SQLStore, ws: Workspace) -> None:
    made = [await store.prompts.create(ws.id, f"p{i}", _body(str(i))) for i in range(7)]
    newest_first = [p.id for p in reversed(made)]
    seen: list[str] = []
    for offset in (0, 3, 6):
        page = await store.prompts.page(ws.id, name=None, limit=3, offset=offset)
        assert (page.total, page.limit, page.offset) == (7, 3, offset)
        assert page.has_more is (offset + 3 < 7)
        seen += [p.id for p in page.items]
    assert seen == newest_first
    beyond = await store.prompts.page(ws.id, name=None, limit=3, offset=10)
    assert (beyond.items, beyond.total, beyond.has_more) == ([], 7, False)


async def test_page_is_scoped_to_workspace(
    store: SQLStore, ws: Workspace, other_ws: Workspace
) -> None:
    await store.prompts.create(ws.id, "mine", _body("x"))
    page = await store.prompts.page(other_ws.id, name=None, limit=10, offset=0)
    assert (page.items, page.total) == ([], 0)


async def test_another_workspace_gets_not_found(
    store: SQLStore, ws: Workspace, other_ws: Workspace
) -> None:
    v1 = await store.prompts.create(ws.id, "p", _body("x"))
    with pytest.raises(NotFound):
        await store.prompts.get(other_ws.id, v1.id)
    with pytest.raises(NotFound):
        await store.prompts.versions(other_ws.id, v1.id)
    with pytest.raises(NotFound):
        await store.prompts.add_version(other_ws.id, v1.id, _body("stolen"))
    assert [p.version for p in await store.prompts.versions(ws.id, v1.id)] == [1]
    assert (await store.prompts.get(ws.id, v1.id)).is_latest


async def test_unknown_id_gets_not_found(store: SQLStore, ws: Workspace) -> None:
    with pytest.raises(NotFound):
        await store.prompts.get(ws.id, "prm_missing")
    with pytest.raises(NotFound):
        await store.prompts.add_version(ws.id, "prm_missing", _body("x"))


async def test_messages_prompt_round_trips(store: SQLStore, ws: Workspace) -> None:
    body = PromptBody(
        messages=(
            Message("system", "You are terse. Ünïcode ✓"),
            Message("user", "Say {word}"),
            Message("assistant", ""),
        )
    )
    p = await store.prompts.create(ws.id, "chat", body)
    got = await store.prompts.get(ws.id, p.id)
    assert got.body == body
    assert got.body.template is None
    assert got.variables == ["word"]
    v2 = await store.prompts.add_version(ws.id, p.id, _body("now a template {w}"))
    v3 = await store.prompts.add_version(ws.id, v2.id, body)
    assert (await store.prompts.get(ws.id, v2.id)).body == _body("now a template {w}")
    assert (await store.prompts.get(ws.id, v3.id)).body == body
