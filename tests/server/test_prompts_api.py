"""``/api/prompts``: both prompt forms, variables, versions and paging."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.server.helpers import PROMPT_FIELDS, assert_fields, assert_list_meta
from tests.support.api import Api

MESSAGES = [
    {"role": "system", "content": "You are {persona}. Write {{json}} when asked."},
    {"role": "user", "content": "{question} (as {persona})"},
    {"role": "assistant", "content": "Sure."},
]


def _assert_prompt(p: dict[str, Any]) -> None:
    assert_fields(p, PROMPT_FIELDS)
    assert isinstance(p["id"], str)
    assert p["id"]
    assert p["source"] == "user"
    assert p["jobId"] is None
    assert datetime.fromisoformat(p["createdAt"].replace("Z", "+00:00")).tzinfo is not None
    assert (p.get("template") is None) != (p.get("messages") is None), p


async def test_create_template_prompt(api: Api) -> None:
    body = {
        "name": "qa",
        "template": "Q: {question}\nContext: {context}\nAgain {question}, not {{this}}.",
        "description": "a QA prompt",
        "tags": ["qa", "demo"],
    }
    response = await api.call("POST", "/api/prompts", 201, json=body)
    assert set(response) == {"data", "meta"}
    p = response["data"]
    _assert_prompt(p)
    assert p["name"] == "qa"
    assert p["description"] == "a QA prompt"
    assert p["version"] == 1
    assert p["isLatest"] is True
    assert p["template"] == body["template"]
    assert p["variables"] == ["question", "context"]
    assert p.get("messages") is None
    fetched = (await api.call("GET", f"/api/prompts/{p['id']}"))["data"]
    assert fetched == p


async def test_create_messages_prompt(api: Api) -> None:
    p = (await api.call("POST", "/api/prompts", 201, json={"name": "chat", "messages": MESSAGES}))[
        "data"
    ]
    _assert_prompt(p)
    assert p["messages"] == MESSAGES
    assert p["variables"] == ["persona", "question"]
    assert p.get("template") is None
    assert (await api.call("GET", f"/api/prompts/{p['id']}"))["data"] == p


@pytest.mark.parametrize(
    ("template", "variables"),
    [
        ("no variables", []),
        ("{{literal}} only", []),
        ("{a}{b}{a}", ["a", "b"]),
        ("{_x1} and {{{y}}}", ["_x1", "y"]),
    ],
)
async def test_variables_are_parsed(api: Api, template: str, variables: list[str]) -> None:
    assert (await api.prompt(template))["variables"] == variables


async def test_versions(api: Api) -> None:
    v1 = await api.prompt("first {question}", name="fam", description="d1")
    v2 = (
        await api.call(
            "POST",
            f"/api/prompts/{v1['id']}/versions",
            201,
            json={"messages": [{"role": "user", "content": "{question}?"}]},
        )
    )["data"]
    _assert_prompt(v2)
    assert v2["id"] != v1["id"]
    assert (v2["name"], v2["version"], v2["isLatest"]) == ("fam", 2, True)
    assert v2["variables"] == ["question"]
    old = (await api.call("GET", f"/api/prompts/{v1['id']}"))["data"]
    assert (old["version"], old["isLatest"], old["template"]) == (1, False, "first {question}")
    # a version added through an older version's id still joins the same prompt
    v3 = (
        await api.call(
            "POST",
            f"/api/prompts/{v1['id']}/versions",
            201,
            json={"template": "third {question}", "description": "d3"},
        )
    )["data"]
    assert (v3["version"], v3["isLatest"], v3["description"]) == (3, True, "d3")
    for any_id in (v1["id"], v3["id"]):
        listed = await api.call("GET", f"/api/prompts/{any_id}/versions")
        assert [p["version"] for p in listed["data"]] == [1, 2, 3]
        assert [p["isLatest"] for p in listed["data"]] == [False, False, True]
        assert [p["id"] for p in listed["data"]] == [v1["id"], v2["id"], v3["id"]]
        assert listed["meta"]["total"] == 3


async def test_versions_list_has_the_list_meta(api: Api) -> None:
    v1 = await api.prompt("a {x}")
    await api.call("POST", f"/api/prompts/{v1['id']}/versions", 201, json={"template": "b {x}"})
    listed = await api.call("GET", f"/api/prompts/{v1['id']}/versions")
    # PROTOCOL.md: every list's meta has total, limit, offset and hasMore
    assert {"total", "limit", "offset", "hasMore"} <= listed["meta"].keys(), listed["meta"]
    assert (listed["meta"]["total"], listed["meta"]["hasMore"]) == (2, False)


async def test_list_shows_latest_version_of_each_prompt_newest_first(api: Api) -> None:
    a = await api.prompt("a", name="alpha")
    b = await api.prompt("b", name="beta")
    a2 = (await api.call("POST", f"/api/prompts/{a['id']}/versions", 201, json={"template": "a2"}))[
        "data"
    ]
    body = await api.call("GET", "/api/prompts")
    assert_list_meta(body, total=2, limit=body["meta"]["limit"], offset=0)
    assert {p["id"] for p in body["data"]} == {a2["id"], b["id"]}
    assert all(p["isLatest"] for p in body["data"])
    for p in body["data"]:
        _assert_prompt(p)


async def test_list_paging_and_name_filter(api: Api) -> None:
    created = [await api.prompt(f"t{i}", name=f"n{i}") for i in range(5)]
    newest_first = [p["id"] for p in reversed(created)]
    seen: list[str] = []
    for offset in (0, 2, 4):
        body = await api.call("GET", f"/api/prompts?limit=2&offset={offset}")
        assert_list_meta(body, total=5, limit=2, offset=offset)
        seen += [p["id"] for p in body["data"]]
    assert seen == newest_first
    past = await api.call("GET", "/api/prompts?limit=2&offset=10")
    assert past["data"] == []
    assert past["meta"]["hasMore"] is False
    named = await api.call("GET", "/api/prompts?name=n3")
    assert_list_meta(named, total=1, limit=named["meta"]["limit"], offset=0)
    assert [p["id"] for p in named["data"]] == [created[3]["id"]]
    assert (await api.call("GET", "/api/prompts?name=zzz"))["meta"]["total"] == 0
