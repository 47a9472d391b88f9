"""Big inputs against one real server with the default limits (docs/hostile-input.md):
a prompt as close to the 10 MiB request limit as the limits allow and one byte over it,
100,000 dataset items added over HTTP in the largest batches accepted and read back a page
at a time, and a dry run on that dataset. Memory is checked (the server runs in this process,
so /proc/self/status is its memory), never time: the figures are printed for the record
(``pytest -s``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.fuzz.support import TIMEOUT, ThreadServer, rss_growth, thread_server
from tests.server.streaming.support import TERMINAL
from whetstone.server.schemas import MAX_TEXT
from whetstone.settings import Settings

DEFAULTS = Settings()
LIMIT = DEFAULTS.max_request_bytes  # 10 MiB
BATCH = DEFAULTS.max_items_per_request  # 10,000
ITEMS = 100_000
PAGE = 500  # the largest page
MIB = 1024  # KiB in a MiB (memory figures are in KiB)
FIGURES: dict[str, Any] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with thread_server(
        tmp_path_factory.mktemp("big"),
        run_jobs=True,
        rate_limit_per_minute=0,  # 200 pages from one key; limits have their own tests
    ) as live:
        yield live


@pytest.fixture(scope="module")
def client(server: ThreadServer) -> Iterator[httpx.Client]:
    with server.client(server.key()) as client:
        yield client


def _json(body: Any) -> bytes:
    return orjson.dumps(body)


def _post(client: httpx.Client, path: str, content: bytes | Iterator[bytes]) -> httpx.Response:
    return client.post(path, content=content, headers={"Content-Type": "application/json"})


def _assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text[:500]
    assert response.json() == {
        "error": {
            "code": "payload_too_large",
            "message": response.json()["error"]["message"],
            "details": {"maxBytes": LIMIT},
        }
    }
    assert "WHETSTONE_MAX_REQUEST_BYTES" in response.json()["error"]["message"]


# -- prompts at the limits -------------------------------------------------------------------


def _messages_body(total: int) -> bytes:
    """A prompt of full-size messages whose JSON body is exactly ``total`` bytes."""
    messages = [{"role": "user", "content": "x" * MAX_TEXT} for _ in range(20)]
    body = {"name": f"huge-{total}", "messages": [*messages, {"role": "user", "content": ""}]}
    rest = total - len(_json(body))
    assert 0 <= rest <= MAX_TEXT
    body["messages"][-1]["content"] = "y" * rest
    encoded = _json(body)
    assert len(encoded) == total
    return encoded


def test_a_prompt_just_under_the_request_limit(client: httpx.Client) -> None:
    body = _messages_body(LIMIT)
    response = _post(client, "/api/prompts", body)
    assert response.status_code == 201, response.text[:500]
    prompt_id = response.json()["data"]["id"]
    stored = client.get(f"/api/prompts/{prompt_id}").json()["data"]
    assert stored["messages"] == orjson.loads(body)["messages"]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_one_byte_over_the_request_limit_is_413(client: httpx.Client, chunked: bool) -> None:
    body = _messages_body(LIMIT + 1)
    before = client.get("/api/prompts").json()["meta"]["total"]
    if chunked:  # no Content-Length: the limit is counted while reading
        chunks = iter([body[i : i + 65536] for i in range(0, len(body), 65536)])
        response = _post(client, "/api/prompts", chunks)
        assert "content-length" not in response.request.headers
    else:
        response = _post(client, "/api/prompts", body)
    _assert_too_large(response)
    assert client.get("/api/prompts").json()["meta"]["total"] == before


def test_a_template_of_the_largest_size_full_of_variables(client: httpx.Client) -> None:
    """500,000 characters, about 55,000 distinct variables and escaped braces: accepted with
    every variable found (this took minutes of CPU before parse_variables kept a dict), and
    usable with a dataset that gives them all; one character more is a 400 naming
    ``template``."""
    words = [f"{{v{i}}} {{{{" if i % 10 == 0 else f"{{v{i}}}" for i in range(80_000)]
    template = " ".join(words)[:MAX_TEXT]
    template = template[: template.rfind("}") + 1]
    template += " " * (MAX_TEXT - len(template))
    response = client.post("/api/prompts", json={"name": "vars", "template": template})
    assert response.status_code == 201, response.text[:500]
    variables = response.json()["data"]["variables"]
    assert len(variables) == template.count("{v")
    assert len(variables) > 50_000
    response = client.post("/api/prompts", json={"name": "vars2", "template": template + "x"})
    assert response.status_code == 400, response.text[:500]
    assert "template" in response.json()["error"]["details"]
    # a dataset that gives every one of them, and an optimization of the two
    prompt_id = client.get("/api/prompts", params={"name": "vars"}).json()["data"][0]["id"]
    item = {"input": dict.fromkeys(variables, "a"), "expectedOutput": "a"}
    dataset = client.post("/api/datasets", json={"name": "wide", "items": [item]})
    assert dataset.status_code == 201, dataset.text[:500]
    config = {"maxIterations": 1, "dryRun": True}
    body = {"promptId": prompt_id, "datasetId": dataset.json()["data"]["id"], "config": config}
    job = client.post("/api/optimizations", json=body)
    assert job.status_code == 201, job.text[:500]
    cancelled = client.post(f"/api/optimizations/{job.json()['data']['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text[:500]


# -- 100,000 items ---------------------------------------------------------------------------


def _item(i: int) -> dict[str, Any]:
    return {
        "input": {"question": f"what is {i} + 1?"},
        "expectedOutput": str(i + 1),
        "metadata": {"n": i},
    }


@pytest.fixture(scope="module")
def big_dataset(client: httpx.Client) -> str:
    """100,000 items, added over HTTP in batches of the largest size a request may carry."""
    dataset = client.post("/api/datasets", json={"name": "big"}).json()["data"]
    sent = 0
    with rss_growth() as memory:
        started = time.perf_counter()
        for start in range(0, ITEMS, BATCH):
            body = _json({"items": [_item(i) for i in range(start, start + BATCH)]})
            assert len(body) <= LIMIT
            sent += len(body)
            response = _post(client, f"/api/datasets/{dataset['id']}/items", body)
            assert response.status_code == 201, response.text[:500]
            assert response.json()["data"] == {"added": BATCH}
        seconds = time.perf_counter() - started
    FIGURES["insert"] = {
        "items/s": round(ITEMS / seconds),
        "seconds": round(seconds, 2),
        "MiB sent": round(sent / MIB / MIB, 1),
        "RSS KiB": (memory.before, memory.peak, memory.after),
    }
    # The server parses one batch at a time: a generous bound, whatever the dataset size.
    assert memory.growth < 256 * MIB, memory
    return str(dataset["id"])


def test_a_batch_over_the_items_limit_is_400(client: httpx.Client, big_dataset: str) -> None:
    body = _json({"items": [_item(i) for i in range(BATCH + 1)]})
    response = _post(client, f"/api/datasets/{big_dataset}/items", body)
    assert response.status_code == 400, response.text[:500]
    assert "items" in response.json()["error"]["details"]
    assert client.get(f"/api/datasets/{big_dataset}").json()["data"]["itemCount"] == ITEMS


def test_paging_through_100k_items(client: httpx.Client, big_dataset: str) -> None:
    """Every item once, in insertion order, a page at a time; the server's memory does not
    grow with the dataset (loading it whole would take about 65 MiB here)."""
    seen: list[int] = []
    ids: set[str] = set()
    pages = 0
    with rss_growth() as memory:
        started = time.perf_counter()
        offset = 0
        while True:
            url = f"/api/datasets/{big_dataset}/items"
            body = client.get(url, params={"limit": PAGE, "offset": offset}).json()
            pages += 1
            meta = body["meta"]
            assert (meta["total"], meta["limit"], meta["offset"]) == (ITEMS, PAGE, offset)
            seen.extend(item["metadata"]["n"] for item in body["data"])
            ids.update(item["id"] for item in body["data"])
            offset += PAGE
            assert meta["hasMore"] is (offset < ITEMS)
            if not meta["hasMore"]:
                break
        seconds = time.perf_counter() - started
    FIGURES["paging"] = {
        "items/s": round(ITEMS / seconds),
        "seconds": round(seconds, 2),
        "pages": pages,
        "RSS KiB": (memory.before, memory.peak, memory.after),
    }
    assert seen == list(range(ITEMS))
    assert len(ids) == ITEMS
    assert memory.growth < 32 * MIB, memory


def test_a_dry_run_on_100k_items_reads_only_what_its_config_says(
    client: httpx.Client, big_dataset: str
) -> None:
    """A validation sample of ``valSize`` items and minibatches of ``minibatchSize``: the
    baseline and full evaluations score 50 items, a minibatch 5, whatever the dataset's
    size, and the run's memory does not grow with it."""
    prompt = client.post("/api/prompts", json={"name": "q", "template": "Answer: {question}"})
    config = {
        "maxIterations": 3,
        "candidatesPerIteration": 2,
        "dryRun": True,
        "seed": 1,
        "tuningParams": {"valSize": 50, "minibatchSize": 5},
    }
    body = {"promptId": prompt.json()["data"]["id"], "datasetId": big_dataset, "config": config}
    with rss_growth() as memory:
        started = time.perf_counter()
        response = client.post("/api/optimizations", json=body)
        assert response.status_code == 201, response.text[:500]
        job_id = response.json()["data"]["id"]
        url = f"/api/optimizations/{job_id}/stream?afterEventId=0"
        with client.stream("GET", url, timeout=TIMEOUT) as stream:
            for line in stream.iter_lines():
                if line.removeprefix("event: ") in TERMINAL:
                    break
        seconds = time.perf_counter() - started
    events = client.get(f"/api/optimizations/{job_id}/events", params={"limit": 5000})
    events_data = events.json()["data"]
    job = client.get(f"/api/optimizations/{job_id}").json()["data"]
    assert job["status"] == "completed", job
    sizes = Counter(
        (e["data"]["phase"], e["data"]["itemCount"])
        for e in events_data
        if e["eventType"] == "evaluation_start"
    )
    assert set(sizes) <= {("baseline", 50), ("full", 50), ("minibatch", 5)}, sizes
    assert sizes[("baseline", 50)] == 1
    assert sizes[("minibatch", 5)] >= 1
    scored = sum(count for _, count in sizes.elements())
    mutations = sum(1 for e in events_data if e["eventType"] == "mutation_generated")
    # each scored item is one task call for the candidate (and at most one for its parent,
    # on a minibatch); each mutation a call or two (reflection): far from 100,000
    assert job["usage"]["llmCalls"] <= 2 * scored + 2 * mutations, (job["usage"], sizes)
    FIGURES["dry run"] = {
        "seconds": round(seconds, 2),
        "llmCalls": job["usage"]["llmCalls"],
        "evaluations": dict(sorted((f"{p}:{n}", c) for (p, n), c in sizes.items())),
        "RSS KiB": (memory.before, memory.peak, memory.after),
    }
    assert memory.growth < 32 * MIB, memory


def test_figures() -> None:
    """Prints what the tests above measured (``pytest -s``); asserts nothing about time."""
    for name, figures in FIGURES.items():
        print(f"\n{name}: {figures}")
