"""Creating jobs and acting on them: the checks that need the store, and waiting for the runner."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Collection

import orjson

from whetstone.bus.base import SubscriberEvicted, Subscription
from whetstone.domain.codec import EncodedEvent, event_from_wire
from whetstone.domain.config import JobConfig, MetricSpec
from whetstone.domain.events import TERMINAL_PAYLOADS, JobPaused
from whetstone.domain.job import Job
from whetstone.domain.status import JobAction
from whetstone.errors import InvalidRequest, NotFound
from whetstone.metrics.base import MetricDeps, MetricParamsError
from whetstone.metrics.registry import available_metrics, build_scorer
from whetstone.metrics.semantic import embedding_model
from whetstone.providers.registry import BUILTIN, EMBEDDING_BUILTINS, available_providers
from whetstone.server.schemas import CreateOptimization
from whetstone.server.services import Services

_SETTLED = (JobPaused, *TERMINAL_PAYLOADS)


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, details={field: message})


def _check_names(config: JobConfig) -> None:
    providers = available_providers()
    for field, model in (
        ("model", config.model),
        ("taskModel", config.task_model),
        ("mutationModel", config.mutation_model),
        ("judgeModel", config.judge_model),
    ):
        provider = (model or "").partition("/")[0]
        if model and provider not in providers:
            valid = ", ".join(sorted(providers))
            raise _invalid(
                f"config.{field}", f"unknown provider {provider!r} in {model!r}; valid: {valid}"
            )
    registry = available_metrics()
    for i, metric in enumerate(config.evaluation_metrics or []):
        if metric.name not in registry:
            raise _invalid(
                f"config.evaluationMetrics.{i}.name",
                f"unknown metric {metric.name!r}; valid: {', '.join(sorted(registry))}",
            )
        try:  # params are checked now, not when the job runs
            build_scorer([metric], MetricDeps(judge=_no_judge, embed=_no_embed), registry)
        except MetricParamsError as exc:
            raise _invalid(f"config.evaluationMetrics.{i}.params", str(exc)) from exc
        embedder = embedding_model(metric.params) if metric.name == "semantic_similarity" else None
        if embedder is not None:
            _check_embedder(f"config.evaluationMetrics.{i}.params", embedder, providers)


def _check_embedder(field: str, model: str, providers: Collection[str]) -> None:
    name = model.partition("/")[0]
    if name not in providers:
        raise _invalid(
            field, f"unknown provider {name!r} in {model!r}; valid: {', '.join(sorted(providers))}"
        )
    if name in BUILTIN and name not in EMBEDDING_BUILTINS:
        raise _invalid(
            field,
            f"the {name!r} provider has no embeddings endpoint; use an OpenAI-compatible model "
            "such as 'openai/text-embedding-3-small', or backend 'local'",
        )


async def _no_judge(*_: object) -> str:
    raise AssertionError("metrics are only built here to check their params")


async def _no_embed(*_: object) -> list[list[float]]:
    raise AssertionError("metrics are only built here to check their params")


async def create_job(svc: Services, workspace_id: str, body: CreateOptimization) -> Job:
    store = svc.store
    try:
        prompt = await store.prompts.get(workspace_id, body.prompt_id)
    except NotFound as exc:
        exc.details = {"promptId": body.prompt_id}
        raise
    try:
        dataset = await store.datasets.get(workspace_id, body.dataset_id)
    except NotFound as exc:
        exc.details = {"datasetId": body.dataset_id}
        raise
    if dataset.item_count == 0:
        raise _invalid("datasetId", f"dataset {dataset.id!r} has no items; add items first")
    keys = set(dataset.common_keys or ())  # a set: a tuple made this O(variables * keys)
    missing = [v for v in prompt.variables if v not in keys]
    if missing:
        raise _invalid(
            "datasetId",
            f"prompt variable(s) {', '.join(missing)} are missing from the input of some items "
            f"of dataset {dataset.id!r}; every item's input must give each variable",
        )
    config = body.config
    _check_names(config)
    if config.evaluation_metrics is None:
        if not await store.datasets.has_expected_outputs(dataset.id):
            raise _invalid(
                "config.evaluationMetrics",
                "the dataset's items have no expectedOutput, so exact_match cannot score them; "
                "choose evaluationMetrics, for example ['g_eval']",
            )
        config = config.model_copy(update={"evaluation_metrics": [MetricSpec(name="exact_match")]})
    resolved = config.with_defaults(
        default_model=svc.settings.default_model, seed=secrets.randbelow(2**31)
    )
    job = await store.jobs.create(workspace_id, prompt.id, dataset.id, resolved.to_wire())
    svc.wake_runner()
    return job


async def act(
    svc: Services, workspace_id: str, job_id: str, action: JobAction, reason: str | None
) -> Job:
    """Apply a user action. A pause or cancel of a running job is honoured by its runner at the
    next step boundary; wait for that up to ``control_wait_seconds``, then answer as things are."""
    sub = svc.bus.subscribe(job_id)
    try:
        before = (await svc.store.jobs.get(workspace_id, job_id)).last_event_id
        job = await svc.store.jobs.request(workspace_id, job_id, action, reason)
        wrote = action is JobAction.RESUME or (
            action is JobAction.CANCEL and job.pending_action is None
        )
        if wrote and job.last_event_id > before:  # the API wrote it: no runner held the job
            await _publish_stored(svc, job_id, before, job.last_event_id)
        if action is JobAction.RESUME:
            svc.wake_runner()
        wait = svc.settings.control_wait_seconds
        if job.pending_action is not None and wait > 0:
            with contextlib.suppress(TimeoutError, SubscriberEvicted):
                await asyncio.wait_for(_settled(sub), wait)
            job = await svc.store.jobs.get(workspace_id, job_id)
        return job
    finally:
        sub.close()


async def _publish_stored(svc: Services, job_id: str, after: int, head: int) -> None:
    """Publish events the API itself wrote (the runner publishes its own)."""
    page = await svc.store.events.after(job_id, after, head - after)
    events = [EncodedEvent(event_from_wire(orjson.loads(body)), body) for body in page.bodies]
    await svc.bus.publish(job_id, events)


async def _settled(sub: Subscription) -> None:
    while True:
        event = await sub.get()
        if isinstance(event.event.payload, _SETTLED):
            return
