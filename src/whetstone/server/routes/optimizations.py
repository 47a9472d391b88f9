from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response

from whetstone.domain.prompt import PromptBody
from whetstone.domain.results import RunSummary, build_results
from whetstone.domain.status import JobAction, JobStatus
from whetstone.errors import InvalidTransition
from whetstone.server import serialize
from whetstone.server.deps import Key, Svc
from whetstone.server.errors import error_response_doc
from whetstone.server.jobs import act, create_job
from whetstone.server.schemas import MAX_INT, CreateOptimization, JobActionIn

router = APIRouter(prefix="/api/optimizations", tags=["optimizations"])
CONFLICT: dict[int | str, dict[str, Any]] = {409: error_response_doc(409)}


@router.post(
    "",
    status_code=201,
    summary="Start an optimization (status queued)",
    responses={404: error_response_doc(404)},  # promptId or datasetId not found
)
async def create_optimization(body: CreateOptimization, svc: Svc, key: Key) -> dict[str, Any]:
    return serialize.one(serialize.job(await create_job(svc, key.workspace_id, body)))


@router.get("", summary="Optimizations, newest first")
async def list_optimizations(
    svc: Svc,
    key: Key,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> dict[str, Any]:
    page = await svc.store.jobs.page(key.workspace_id, status=status, limit=limit, offset=offset)
    return serialize.paged(page, serialize.job)


@router.get("/{job_id}", summary="One optimization")
async def get_optimization(job_id: str, svc: Svc, key: Key) -> dict[str, Any]:
    return serialize.one(serialize.job(await svc.store.jobs.get(key.workspace_id, job_id)))


async def _act(
    svc: Svc, key: Key, job_id: str, action: JobAction, body: JobActionIn | None
) -> dict[str, Any]:
    job = await act(svc, key.workspace_id, job_id, action, body.reason if body else None)
    return serialize.one(serialize.job(job))


@router.post(
    "/{job_id}/pause",
    summary="Pause a running optimization (409 unless running)",
    responses=CONFLICT,
)
async def pause(job_id: str, svc: Svc, key: Key, body: JobActionIn | None = None) -> dict[str, Any]:
    return await _act(svc, key, job_id, JobAction.PAUSE, body)


@router.post(
    "/{job_id}/resume",
    summary="Resume a paused optimization (409 unless paused)",
    responses=CONFLICT,
)
async def resume(job_id: str, svc: Svc, key: Key) -> dict[str, Any]:
    return await _act(svc, key, job_id, JobAction.RESUME, None)


@router.post(
    "/{job_id}/cancel",
    summary="Cancel an optimization (409 if already ended)",
    responses=CONFLICT,
)
async def cancel(
    job_id: str, svc: Svc, key: Key, body: JobActionIn | None = None
) -> dict[str, Any]:
    return await _act(svc, key, job_id, JobAction.CANCEL, body)


@router.get(
    "/{job_id}/results",
    summary="Results of an ended optimization (409 until then)",
    responses=CONFLICT,
)
async def results(job_id: str, svc: Svc, key: Key) -> dict[str, Any]:
    job = await svc.store.jobs.get(key.workspace_id, job_id)
    if not job.status.is_terminal:
        raise InvalidTransition(
            f"optimization {job_id!r} is {job.status.value}; results exist once it has ended "
            "(completed, failed or cancelled). Follow its events to know when.",
            details={"status": job.status.value},
        )
    checkpoint = await svc.store.jobs.checkpoint(job.id)
    if checkpoint is not None:
        summary = RunSummary.from_wire(checkpoint.summary)
    else:
        prompt = await svc.store.prompts.get(key.workspace_id, job.prompt_id)
        summary = RunSummary(best_prompt=PromptBody.from_wire(prompt.body.to_wire()))
    data = build_results(
        job,
        summary,
        status=job.status,
        stop_reason=job.stop_reason,
        result_prompt_id=job.result_prompt_id,
    )
    return serialize.one(data)


@router.get("/{job_id}/events", summary="The stored event log after an id")
async def events(
    job_id: str,
    svc: Svc,
    key: Key,
    after_event_id: Annotated[int, Query(alias="afterEventId", ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> Response:
    await svc.store.jobs.get(key.workspace_id, job_id)
    page = await svc.store.events.after(job_id, after_event_id, limit)
    meta = orjson.dumps(
        {
            "headEventId": page.head_event_id,
            "hasMore": page.has_more,
            "afterEventId": after_event_id,
            "limit": limit,
        }
    )
    # The stored bodies are the events' JSON already: splice, don't re-encode.
    body = b'{"data":[' + b",".join(page.bodies) + b'],"meta":' + meta + b"}"
    return Response(body, media_type="application/json")
