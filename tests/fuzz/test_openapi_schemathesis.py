"""Schemathesis against the served ``/openapi.json``: every operation, with valid and invalid
inputs (its examples, coverage and fuzzing phases), an API key on every call. No response
may be a 5xx, and every response must have a status the document declares, a body matching
the schema declared for that status, and the declared content type.

Path parameters and ``promptId``/``datasetId`` are drawn three times in four from real
objects (a prompt and its optimized version, a dataset, and jobs that are queued, running,
paused, cancelled and completed), so the fuzzer gets past the 404s. The runner is stopped
once the completed job has run: nothing the fuzzer creates runs, no model is ever called.

Deterministic: hypothesis is derandomized, and schemathesis does not feed responses (whose
ids are random) back into generation. What these tests found is in docs/hostile-input.md
and pinned by ``test_found_by_fuzzing``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.support import TIMEOUT, ThreadServer, thread_server
from tests.server.helpers import make_paused, make_running
from tests.server.streaming.support import TERMINAL

EXAMPLES = 40  # per operation (fuzzing phase); the file takes 25-45 s on 2 cores
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "phases": {
            "examples": {"extra-data-sources": {"responses": False}},
            "coverage": {"extra-data-sources": {"responses": False}},
            "fuzzing": {
                "extra-data-sources": {"responses": False},
                "error-feedback": {"enabled": False},
            },
        },
        "generation": {"deterministic": True},
    }
)
ITEMS = [
    {"input": {"question": "2+2"}, "expectedOutput": "4"},
    {"input": {"question": "capital of France"}, "expectedOutput": "Paris"},
]
# Statuses seen per operation, for test_the_fuzzer_reached_real_objects.
SEEN: defaultdict[str, Counter[int]] = defaultdict(Counter)


def _post(client: httpx.Client, path: str, body: dict[str, Any] | None = None) -> Any:
    response = client.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    return response.json()["data"]


def _job(client: httpx.Client, prompt_id: str, dataset_id: str) -> str:
    body = {
        "promptId": prompt_id,
        "datasetId": dataset_id,
        "config": {"maxIterations": 2, "dryRun": True, "seed": 1},
    }
    return str(_post(client, "/api/optimizations", body)["id"])


def _run_to_the_end(client: httpx.Client, job_id: str) -> None:
    """Follow the job's SSE stream until its terminal event (bounded by the client timeout)."""
    url = f"/api/optimizations/{job_id}/stream?afterEventId=0"
    with client.stream("GET", url) as response:
        for line in response.iter_lines():
            if line.startswith("event: ") and line.removeprefix("event: ") in TERMINAL:
                return
    raise AssertionError(f"the stream of {job_id} ended without a terminal event")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with thread_server(
        tmp_path_factory.mktemp("openapi"),
        run_jobs=True,
        control_wait_seconds=0,
        rate_limit_per_minute=0,  # a thousand calls with one key; limits have their own tests
    ) as live:
        yield live


@pytest.fixture(scope="module")
def key(server: ThreadServer) -> str:
    return server.key()


@pytest.fixture(scope="module")
def real_ids(server: ThreadServer, key: str) -> dict[str, list[str]]:
    """Real objects of every kind, and jobs in five statuses."""
    with server.client(key) as client:
        prompt = _post(client, "/api/prompts", {"name": "qa", "template": "Q: {question}"})
        dataset = _post(client, "/api/datasets", {"name": "arith", "items": ITEMS})
        completed = _job(client, prompt["id"], dataset["id"])
        _run_to_the_end(client, completed)
        assert server.services.runner is not None
        server.call(server.services.runner.stop())  # from here on jobs stay where we put them
        running = _job(client, prompt["id"], dataset["id"])
        server.call(make_running(server.services, running))
        paused = _job(client, prompt["id"], dataset["id"])
        server.call(make_paused(server.services, paused))
        cancelled = _job(client, prompt["id"], dataset["id"])
        _post(client, f"/api/optimizations/{cancelled}/cancel")
        queued = _job(client, prompt["id"], dataset["id"])
        versions = client.get(f"/api/prompts/{prompt['id']}/versions").json()["data"]
        jobs = client.get("/api/optimizations").json()["data"]
    assert {job["id"]: job["status"] for job in jobs} == {
        completed: "completed",
        running: "running",
        paused: "paused",
        cancelled: "cancelled",
        queued: "queued",
    }
    return {
        "prompt_id": [v["id"] for v in versions],
        "dataset_id": [dataset["id"]],
        "job_id": [completed, running, paused, cancelled, queued],
        # the SSE stream of a job that has not ended stays open: only ended jobs for it
        "stream_job_id": [completed, cancelled],
    }


@pytest.fixture(scope="module")
def api_schema(server: ThreadServer) -> Any:
    return schemathesis.openapi.from_url(
        f"{server.url}/openapi.json", config=CONFIG, timeout=TIMEOUT
    )


schema = schemathesis.pytest.from_fixture("api_schema")


def _seed(case: Any, real_ids: dict[str, list[str]], pick: int) -> None:
    """With ``pick`` > 0, put real ids where the case has ids."""
    if not pick:
        return
    stream = case.operation.path.endswith("/stream")
    for name in case.path_parameters or {}:
        pool = real_ids["stream_job_id" if stream else name]
        case.path_parameters[name] = pool[pick % len(pool)]
    if isinstance(case.body, dict):
        for field, pool_name in (("promptId", "prompt_id"), ("datasetId", "dataset_id")):
            if isinstance(case.body.get(field), str):
                pool = real_ids[pool_name]
                case.body[field] = pool[pick % len(pool)]


@schema.parametrize()
@schema.given(pick=st.integers(min_value=0, max_value=3))
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_response_as_declared(
    case: Any, pick: int, server: ThreadServer, key: str, real_ids: dict[str, list[str]]
) -> None:
    _seed(case, real_ids, pick)
    response = case.call_and_validate(
        base_url=server.url,
        headers={"Authorization": f"Bearer {key}"},
        checks=CHECKS,
        timeout=TIMEOUT,
    )
    SEEN[f"{case.method.upper()} {case.operation.path}"][response.status_code] += 1


def test_the_fuzzer_reached_real_objects() -> None:
    """Every operation was called, and every one with an id in its path answered something
    other than 404 at least once: the seeded ids took it past the lookup."""
    if not SEEN:
        pytest.skip("run with test_no_server_error_and_every_response_as_declared")
    with_ids = [label for label in SEEN if "{" in label]
    assert len(SEEN) >= 20, sorted(SEEN)
    assert len(with_ids) >= 12, with_ids
    for label in with_ids:
        statuses = SEEN[label]
        assert sum(n for status, n in statuses.items() if status != 404), (label, statuses)
    total = sum(sum(statuses.values()) for statuses in SEEN.values())
    print(f"\n{total} requests over {len(SEEN)} operations (pytest -s shows this)")


def test_the_schema_declares_the_error_responses(server: ThreadServer) -> None:
    """Every /api operation declares its error statuses with the PROTOCOL.md error body,
    and none declares FastAPI's 422 (validation errors are 400)."""
    with server.client() as client:
        document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    error = document["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            assert "422" not in declared, (method, path)
            expected = {"413", "429", "500"}
            if path != "/api/health":
                expected.add("401")
            if "{" in path:
                expected |= {"400", "404"}
            if path.rsplit("/", 1)[-1] in ("pause", "resume", "cancel", "results"):
                expected.add("409")
            if path == "/api/optimizations" and method == "post":
                expected.add("404")
            assert expected <= declared, (method, path, sorted(declared))
            for status in expected:
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}


BIG = 2**63  # one past what SQLite's INTEGER holds


@pytest.mark.parametrize(
    ("path", "headers", "field"),
    [
        (f"/api/optimizations/{{job}}/events?afterEventId={BIG}", {}, "afterEventId"),
        (f"/api/optimizations/{{job}}/events?afterEventId={10**20}", {}, "afterEventId"),
        (f"/api/optimizations/{{job}}/stream?afterEventId={BIG}", {}, "afterEventId"),
        ("/api/optimizations/{job}/stream", {"Last-Event-ID": str(BIG)}, "Last-Event-ID"),
        ("/api/optimizations/{job}/stream", {"Last-Event-ID": "\u00b2"}, "Last-Event-ID"),
        (f"/api/prompts?offset={BIG}", {}, "offset"),
        (f"/api/datasets?offset={BIG}", {}, "offset"),
        (f"/api/optimizations?offset={BIG}", {}, "offset"),
        (f"/api/datasets/{{dataset}}/items?offset={BIG}", {}, "offset"),
    ],
)
def test_found_by_fuzzing(
    server: ThreadServer,
    key: str,
    real_ids: dict[str, list[str]],
    path: str,
    headers: dict[str, str],
    field: str,
) -> None:
    """Were 500s (an int past 2**63 - 1 overflowed the SQLite driver; ``'²'.isdigit()`` is
    true but ``int('²')`` fails): now a 400 naming the field. The largest id still works."""
    url = path.format(job=real_ids["job_id"][0], dataset=real_ids["dataset_id"][0])
    with server.client(key) as client:
        response = client.get(url, headers={k: v.encode("latin-1") for k, v in headers.items()})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        assert field in error["details"], error
        fine = client.get(url.replace(str(BIG), str(BIG - 1)).replace(str(10**20), "0"))
        if not headers:
            assert fine.status_code == 200, fine.text
