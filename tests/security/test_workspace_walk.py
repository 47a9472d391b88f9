"""Cross-workspace walk: with workspace B's key, every route of the app (enumerated from the
app itself, so a new route is covered without touching this file), every method, with A's
ids in every path parameter; then the WebSocket and SSE on A's jobs. B never sees any of
A's ids, names, templates, items or events, and nothing of A's changes. Without a key, or
with a wrong one, every ``/api`` route but ``GET /api/health`` is 401."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
from fastapi.routing import iter_route_contexts

from tests.server.helpers import assert_error, make_paused, make_running
from tests.server.streaming.clients import bearer, http_client, ws
from tests.server.streaming.support import Feed
from tests.support.api import Api
from tests.support.live import LiveServer
from whetstone.server.app import create_app
from whetstone.server.services import Services

# Limits off: the walk makes hundreds of requests with one key from one address.
pytestmark = pytest.mark.parametrize("settings_overrides", [{"rate_limit_per_minute": 0}])

PARAM = re.compile(r"{(\w+)(?::\w+)?}")
WORKSPACE_LISTS = ("/api/prompts", "/api/datasets", "/api/optimizations")


@dataclass
class Owned:
    """What workspace A holds, and every string of it B must never be shown."""

    prompts: list[str]
    datasets: list[str]
    jobs: dict[str, str]  # status -> job id
    items: list[str]
    prompt_name: str
    secrets: set[str] = field(default_factory=set)

    def ids(self) -> list[str]:
        return [*self.prompts, *self.datasets, *self.jobs.values(), *self.items]

    def candidates(self, param: str) -> list[str]:
        """A's ids to put in the path parameter ``param``."""
        if "prompt" in param:
            return self.prompts
        if "dataset" in param:
            return self.datasets
        if "job" in param or "optimization" in param:
            return list(self.jobs.values())
        return self.ids()


@pytest.fixture
async def owned(api: Api, services: Services) -> Owned:
    """Workspace A: a prompt with two versions, a dataset with items, a completed job (with
    its result prompt), a running one and a paused one, each with events."""
    tag = uuid.uuid4().hex[:12]
    prompt = await api.prompt(
        f"Answer {{question}} alpha-template-{tag}",
        name=f"alpha-prompt-{tag}",
        description=f"alpha-description-{tag}",
        tags=[f"alpha-tag-{tag}"],
    )
    body = {"template": f"Reply to {{question}} alpha-template-two-{tag}"}
    versions = f"/api/prompts/{prompt['id']}/versions"
    second = (await api.call("POST", versions, 201, json=body))["data"]
    items = [
        {"input": {"question": f"alpha-question-{i}-{tag}"}, "expectedOutput": f"alpha-{i}-{tag}"}
        for i in range(3)
    ]
    dataset = await api.dataset(
        items, name=f"alpha-dataset-{tag}", description=f"alpha-ds-description-{tag}"
    )
    stored_items = (await api.call("GET", f"/api/datasets/{dataset['id']}/items"))["data"]

    async def job() -> str:
        body = {
            "promptId": second["id"],
            "datasetId": dataset["id"],
            "config": {"maxIterations": 2, "dryRun": True},
        }
        return str((await api.call("POST", "/api/optimizations", 201, json=body))["data"]["id"])

    completed = await job()
    assert services.runner is not None
    assert await services.runner.run_until_idle() == 1
    done = (await api.call("GET", f"/api/optimizations/{completed}"))["data"]
    assert done["status"] == "completed"
    running = await job()
    await Feed(services, running).write(3)
    await make_running(services, running)
    paused = await job()
    await Feed(services, paused).write(2)
    await make_paused(services, paused)
    workspace = await services.store.keys.ensure_workspace("default")

    prompt_ids = [prompt["id"], second["id"]]
    if done["resultPromptId"] not in prompt_ids:
        prompt_ids.append(done["resultPromptId"])
    owned = Owned(
        prompts=prompt_ids,
        datasets=[dataset["id"]],
        jobs={"completed": completed, "running": running, "paused": paused},
        items=[item["id"] for item in stored_items],
        prompt_name=prompt["name"],
    )
    owned.secrets = {
        *owned.ids(),
        workspace.id,
        prompt["name"],
        f"alpha-template-{tag}",
        f"alpha-template-two-{tag}",
        f"alpha-description-{tag}",
        f"alpha-tag-{tag}",
        dataset["name"],
        f"alpha-ds-description-{tag}",
        *(f"alpha-question-{i}-{tag}" for i in range(3)),
        *(f"alpha-{i}-{tag}" for i in range(3)),
    }
    return owned


async def snapshot(api: Api, owned: Owned) -> dict[str, Any]:
    """Everything of A's, as A reads it."""
    out: dict[str, Any] = {}
    for path in WORKSPACE_LISTS:
        out[path] = await api.call("GET", f"{path}?limit=500")
    for prompt in owned.prompts:
        out[prompt] = await api.call("GET", f"/api/prompts/{prompt}")
        out[f"{prompt}/versions"] = await api.call("GET", f"/api/prompts/{prompt}/versions")
    for dataset in owned.datasets:
        out[dataset] = await api.call("GET", f"/api/datasets/{dataset}")
        out[f"{dataset}/items"] = await api.call("GET", f"/api/datasets/{dataset}/items?limit=500")
    for job in owned.jobs.values():
        out[job] = await api.call("GET", f"/api/optimizations/{job}")
        out[f"{job}/events"] = await api.call("GET", f"/api/optimizations/{job}/events")
    return out


# -- the routes -----------------------------------------------------------------------------


def routes(services: Services) -> list[tuple[str, str]]:
    """Every (method, path template) of the app, HEAD aside; at least PROTOCOL's routes."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(create_app(services=services).routes):
        if route.path is None or not route.methods:
            continue  # not an HTTP route (the WebSocket is served ahead of the routing)
        found.update((method, route.path) for method in route.methods if method != "HEAD")
    assert ("GET", "/api/optimizations/{job_id}/stream") in found
    assert ("POST", "/api/optimizations/{job_id}/pause") in found
    return sorted(found)


def urls(template: str, owned: Owned) -> Iterator[str]:
    """``template`` with A's ids in its path parameters, every combination."""
    params = PARAM.findall(template)
    for values in itertools.product(*(owned.candidates(p) for p in params)):
        url = template
        for value in values:
            url = PARAM.sub(value, url, count=1)
        yield url


def body_for(method: str, template: str, owned: Owned, name: str) -> Any:
    """A body that would succeed if the route were A's (for new routes: A's ids)."""
    if method in ("GET", "DELETE"):
        return None
    question = [{"input": {"question": "b"}, "expectedOutput": "b"}]
    bodies: dict[str, Any] = {
        "/api/prompts": {"name": name, "template": "B {question}"},
        "/api/prompts/{prompt_id}/versions": {"template": "stolen {question}"},
        "/api/datasets": {"name": name, "items": question},
        "/api/datasets/{dataset_id}/items": {"items": question},
        "/api/optimizations": {
            "promptId": owned.prompts[0],
            "datasetId": owned.datasets[0],
            "config": {"dryRun": True},
        },
        "/api/optimizations/{job_id}/pause": {"reason": "B was here"},
        "/api/optimizations/{job_id}/cancel": {"reason": "B was here"},
        "/api/auth/login": {"code": "not-a-login-code"},
        "/api/auth/login-links": {"next": "/"},
    }
    default = {"promptId": owned.prompts[0], "datasetId": owned.datasets[0]}
    return bodies.get(template, default)


def assert_no_leak(owned: Owned, response: httpx.Response, sent: str) -> None:
    """No secret of A's in ``response`` but those the request itself carried (``sent``):
    a 404 may name the id it was asked for."""
    text = response.text + " " + " ".join(f"{k}: {v}" for k, v in response.headers.items())
    leaked = sorted(s for s in owned.secrets if s in text and s not in sent)
    assert not leaked, f"{response.request.method} {response.request.url}: {leaked}"


Walked = list[tuple[str, httpx.Response]]  # (path template, response)


async def walk(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    owned: Owned,
    services: Services,
    methods: set[str],
) -> Walked:
    """Every route with one of ``methods``, every URL of it; GETs also with a query naming
    A's prompt and a status (filters must not find A's things either)."""
    responses: Walked = []
    name = f"beta-{uuid.uuid4().hex[:8]}"
    query = f"?name={owned.prompt_name}&status=paused&limit=500&afterEventId=0"
    for method, template in routes(services):
        if method not in methods:
            continue
        for url in urls(template, owned):
            body = body_for(method, template, owned, name)
            for suffix in ("", query) if method == "GET" else ("",):
                response = await client.request(method, url + suffix, headers=headers, json=body)
                sent = url + suffix + orjson.dumps(body).decode()
                assert response.status_code < 500, (method, url, response.text)
                assert_no_leak(owned, response, sent)
                responses.append((template, response))
    return responses


# -- key B ----------------------------------------------------------------------------------


async def test_workspace_b_walks_every_route_and_sees_nothing_of_a(
    api: Api, other_api: Api, owned: Owned, services: Services
) -> None:
    before = await snapshot(api, owned)
    client, headers = other_api.client, other_api.headers

    # reads first, while B holds nothing: empty lists, 404 for every one of A's ids
    for template, response in await walk(client, headers, owned, services, {"GET"}):
        if template.startswith("/api/") and "{" in template:
            assert_error(response, 404, "not_found")
        elif template in WORKSPACE_LISTS:
            body = response.json()
            assert body["data"] == []
            assert body["meta"]["total"] == 0
        elif template.startswith("/api/"):
            assert response.status_code == 200, response.text

    # then every write, pause, resume and cancel
    writes = await walk(client, headers, owned, services, {"POST", "PUT", "PATCH", "DELETE"})
    assert writes
    for template, response in writes:
        if template.startswith("/api/") and "{" in template:
            assert_error(response, 404, "not_found")
    created = {template: r for template, r in writes if template in WORKSPACE_LISTS}
    assert_error(created["/api/optimizations"], 404, "not_found")  # with A's prompt and dataset
    assert created["/api/prompts"].status_code == 201  # B's own prompt

    # and the reads again, now that B has things of its own
    await walk(client, headers, owned, services, {"GET"})
    assert await snapshot(api, owned) == before
    jobs = {
        status: (await api.call("GET", f"/api/optimizations/{job}"))["data"]["status"]
        for status, job in owned.jobs.items()
    }
    assert jobs == {"completed": "completed", "running": "running", "paused": "paused"}


async def test_b_may_reuse_as_names_and_learns_nothing_from_them(
    api: Api, other_api: Api, owned: Owned
) -> None:
    prompt_name = (await api.call("GET", f"/api/prompts/{owned.prompts[0]}"))["data"]["name"]
    dataset_name = (await api.call("GET", f"/api/datasets/{owned.datasets[0]}"))["data"]["name"]
    mine = await other_api.prompt("B {question}", name=prompt_name)
    assert mine["version"] == 1  # not a new version of A's prompt, and no "name taken"
    assert mine["id"] not in owned.prompts
    listed = await other_api.call("GET", f"/api/prompts?name={prompt_name}")
    assert [p["id"] for p in listed["data"]] == [mine["id"]]
    theirs = await other_api.dataset(name=dataset_name)
    assert theirs["itemCount"] == 2
    assert theirs["id"] not in owned.datasets


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wst_000000000000_not-a-key"}, {"x-api-key": "garbage"}],
    ids=["no-key", "wrong-bearer", "wrong-x-api-key"],
)
async def test_without_a_valid_key_every_api_route_is_401(
    client: httpx.AsyncClient,
    api: Api,
    owned: Owned,
    services: Services,
    headers: dict[str, str],
) -> None:
    before = await snapshot(api, owned)
    everything = {"GET", "POST", "PUT", "PATCH", "DELETE"}
    responses = await walk(client, headers, owned, services, everything)
    for template, response in responses:
        method = response.request.method
        if (method, template) == ("GET", "/api/health"):
            assert response.status_code == 200
        elif (method, template) == ("POST", "/api/auth/login"):
            assert response.status_code in (400, 401), response.text  # a code, not a key
        elif template.startswith("/api/"):
            error = assert_error(response, 401, "unauthorized")
            assert "API key" in error["message"]
        else:  # the web pages and their files: no data in them, with or without a key
            assert response.status_code in (200, 304, 404), (template, response.text)
    assert await snapshot(api, owned) == before


# -- WebSocket and SSE ----------------------------------------------------------------------


async def test_b_gets_nothing_of_as_jobs_over_the_websocket(
    server: LiveServer, services: Services, api: Api, owned: Owned, other_key: str, key: str
) -> None:
    before = await snapshot(api, owned)
    running = owned.jobs["running"]
    async with ws(server, other_key) as socket, ws(server, key) as mine:
        await mine.subscribe(running, after=0)  # A follows its running job
        assert [e["id"] for e in await mine.events(running, until=3)] == [1, 2, 3]
        for job in owned.jobs.values():
            for frame in (
                {"type": "subscribe", "jobId": job},
                {"type": "subscribe", "jobId": job, "afterEventId": 0},
                {"type": "replay", "jobId": job},
                {"type": "replay", "jobId": job, "afterEventId": 0},
            ):
                await socket.send(frame)
                error = await socket.expect("error", jobId=job)
                assert error["code"] == "not_found"
            await socket.send({"type": "unsubscribe", "jobId": job})
            await socket.expect("unsubscribed", jobId=job)
        await socket.send({"type": "auth", "token": key})  # A's key on B's socket
        assert (await socket.expect("error"))["code"] == "unauthorized"
        # live events of A's running job, while both sockets are open: A's only
        await Feed(services, running).write(3)
        assert [e["id"] for e in await mine.events(running, until=6)] == [4, 5, 6]
        await socket.ping()
        assert not [f for f in socket.seen if f["type"] in ("event", "replay", "subscribed")]
        text = orjson.dumps(socket.seen).decode()
        leaked = [s for s in owned.secrets if s in text and s not in owned.jobs.values()]
        assert not leaked
    after = await snapshot(api, owned)
    for snap in (before, after):  # the running job moved on, by A's own doing
        del snap[running], snap[f"{running}/events"]
        jobs = snap["/api/optimizations"]["data"]
        jobs[:] = [job for job in jobs if job["id"] != running]
    assert after == before


async def test_b_gets_nothing_of_as_jobs_over_sse(
    server: LiveServer, owned: Owned, other_key: str
) -> None:
    async with http_client(server) as client:
        for job in owned.jobs.values():
            for headers in (bearer(other_key), {**bearer(other_key), "Last-Event-ID": "0"}):
                url = f"/api/optimizations/{job}/stream?afterEventId=0"
                response = await client.get(url, headers=headers)
                assert_error(response, 404, "not_found")
                assert not response.headers["content-type"].startswith("text/event-stream")
                assert_no_leak(owned, response, url)
