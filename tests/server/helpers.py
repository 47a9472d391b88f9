"""Helpers for the REST tests: the PROTOCOL.md field lists, error checks, state snapshots and
store-level moves that put a job in a state the REST API alone cannot reach."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.support.api import Api
from whetstone.domain.status import JobStatus
from whetstone.server.services import Services
from whetstone.store.base import JobUpdate

# Every REST route of PROTOCOL.md; ``{id}`` stands for any path parameter.
PROTOCOL_ROUTES: list[tuple[str, str]] = [
    ("GET", "/api/health"),
    ("POST", "/api/prompts"),
    ("GET", "/api/prompts"),
    ("GET", "/api/prompts/{id}"),
    ("POST", "/api/prompts/{id}/versions"),
    ("GET", "/api/prompts/{id}/versions"),
    ("POST", "/api/datasets"),
    ("GET", "/api/datasets"),
    ("GET", "/api/datasets/{id}"),
    ("POST", "/api/datasets/{id}/items"),
    ("GET", "/api/datasets/{id}/items"),
    ("POST", "/api/optimizations"),
    ("GET", "/api/optimizations"),
    ("GET", "/api/optimizations/{id}"),
    ("POST", "/api/optimizations/{id}/pause"),
    ("POST", "/api/optimizations/{id}/resume"),
    ("POST", "/api/optimizations/{id}/cancel"),
    ("GET", "/api/optimizations/{id}/results"),
    ("GET", "/api/optimizations/{id}/events"),
    ("GET", "/api/optimizations/{id}/stream"),
]

PROMPT_FIELDS = {
    "id",
    "name",
    "version",
    "isLatest",
    "description",
    "variables",
    "source",
    "jobId",
    "createdAt",
}
DATASET_FIELDS = {"id", "name", "description", "itemCount", "createdAt"}
ITEM_FIELDS = {"id", "input"}
JOB_FIELDS = {
    "id",
    "status",
    "promptId",
    "datasetId",
    "config",
    "currentIteration",
    "initialScore",
    "currentScore",
    "bestScore",
    "resultPromptId",
    "lastEventId",
    "usage",
    "createdAt",
}
EVENT_FIELDS = {"id", "jobId", "eventType", "iteration", "stage", "timestamp", "data"}
CONFIG_FIELDS = {
    "maxIterations",
    "targetScore",
    "patience",
    "minImprovement",
    "mutationStrength",
    "mutationTypes",
    "candidatesPerIteration",
    "evaluationMetrics",
    "preserveVariables",
    "preserveStructure",
    "timeout",
    "model",
    "taskModel",
    "mutationModel",
    "judgeModel",
    "dryRun",
    "budget",
    "concurrency",
    "seed",
    "tuningParams",
}
TEST_OWNER = "tests:owner"


def assert_fields(obj: dict[str, Any], fields: set[str]) -> None:
    missing = fields - obj.keys()
    assert not missing, f"missing {sorted(missing)} in {sorted(obj)}"


def assert_error(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The PROTOCOL.md error body; ``field`` must be a key of ``details`` (or start one)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert {"code", "message", "details"} <= error.keys(), error
    assert error["code"] == code, error
    assert isinstance(error["message"], str), error
    assert len(error["message"]) > 10, error
    assert isinstance(error["details"], dict), error
    if field is not None:
        named = [k for k in error["details"] if k == field or k.startswith(f"{field}.")]
        assert named, f"details {error['details']} do not name {field!r}"
    return error


def assert_list_meta(body: dict[str, Any], total: int, limit: int, offset: int) -> None:
    assert set(body) == {"data", "meta"}, body
    meta = body["meta"]
    assert isinstance(body["data"], list)
    assert (meta["total"], meta["limit"], meta["offset"]) == (total, limit, offset), meta
    assert meta["hasMore"] is (offset + len(body["data"]) < total), meta


async def totals(api: Api) -> dict[str, int]:
    """How many prompts, datasets and jobs the workspace holds."""
    out: dict[str, int] = {}
    for name in ("prompts", "datasets", "optimizations"):
        out[name] = (await api.call("GET", f"/api/{name}"))["meta"]["total"]
    return out


async def job_state(api: Api, job_id: str) -> tuple[str, int, Any, int]:
    """Status, lastEventId, pendingAction and stored event count of a job."""
    job = (await api.call("GET", f"/api/optimizations/{job_id}"))["data"]
    return (
        job["status"],
        job["lastEventId"],
        job.get("pendingAction"),
        len(await api.events(job_id)),
    )


async def make_running(services: Services, job_id: str) -> None:
    """Claim the (only) queued job with a test lease and mark it running, as a runner would."""
    now = services.clock.now()
    claimed = await services.store.jobs.claim(TEST_OWNER, now, now + timedelta(hours=1))
    assert claimed is not None
    assert claimed.id == job_id
    update = JobUpdate(status=JobStatus.RUNNING, started_at=now)
    await services.store.jobs.write(job_id, [], update, owner=TEST_OWNER)


async def make_paused(services: Services, job_id: str) -> None:
    await make_running(services, job_id)
    update = JobUpdate(status=JobStatus.PAUSED, clear_lease=True, clear_pending=True)
    await services.store.jobs.write(job_id, [], update, owner=TEST_OWNER)
