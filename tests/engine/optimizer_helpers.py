"""Helpers for the optimizer tests: sample tasks through the REST API, the event grammar as a
checker, comparable event streams, a step hook around the real engine, and fake providers
(the outer boundary: everything inside them is the real code)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.api import Api
from tests.support.contract import STAGES, USAGE_FIELDS
from whetstone.domain.config import MUTATION_TYPES
from whetstone.domain.status import JobAction
from whetstone.engine.base import EngineFactory, JobContext, JobEngine, StepResult
from whetstone.engine.factory import OptimizerFactory
from whetstone.providers.base import Completion, CompletionRequest
from whetstone.providers.sim.provider import SimProvider
from whetstone.samples import load_sample
from whetstone.server.services import Services
from whetstone.store.base import Store

SAMPLES = ("capitals", "dates-and-numbers", "catalog-assistant")
TERMINAL = frozenset({"job_complete", "job_failed", "job_cancelled"})
CONTROL = frozenset({"job_paused", "job_resumed"})
ORDINARY = frozenset(
    {
        "job_started",
        "iteration_start",
        "mutation_generated",
        "evaluation_start",
        "evaluation_complete",
        "new_best",
        "iteration_complete",
        "job_complete",
    }
)
REQUIRED = {  # PROTOCOL.md: what each event's data always has
    "job_started": {"jobId", "timestamp", "promptId", "datasetId", "config"},
    "iteration_start": {"iteration", "timestamp"},
    "mutation_generated": {"candidateId", "parentIds", "mutationType", "preview", "prompt"},
    "evaluation_start": {"iteration", "candidateId", "itemCount"},
    "evaluation_complete": {"iteration", "candidateId", "score", "metrics", "usage"},
    "new_best": {"candidateId", "score", "previousScore", "improvement", "prompt"},
    "iteration_complete": {"iteration", "bestScore", "usage"},
    "job_paused": {"iteration", "reason"},
    "job_resumed": {"iteration"},
    "job_complete": {"results"},
    "job_failed": {"error", "willRetry"},
    "job_cancelled": {"reason"},
}

Event = dict[str, Any]


# -- tasks, jobs and their data through the REST API ---------------------------------------


@dataclass
class Task:
    """A sample task stored through the API: one prompt and one dataset, many jobs."""

    name: str
    prompt: dict[str, Any]
    dataset: dict[str, Any]
    config: dict[str, Any]
    item_count: int

    async def start(self, api: Api, **config: Any) -> dict[str, Any]:
        body = {
            "promptId": self.prompt["id"],
            "datasetId": self.dataset["id"],
            "config": {**self.config, "dryRun": True, "seed": 11, **config},
        }
        job: dict[str, Any] = (await api.call("POST", "/api/optimizations", 201, json=body))["data"]
        return job


async def sample_task(api: Api, name: str, *, template: str | None = None) -> Task:
    sample = load_sample(name)
    items = sample["dataset"]["items"]
    prompt = await api.prompt(template or sample["prompt"]["template"], name=f"{name}-prompt")
    dataset = await api.dataset(items, name=f"{name}-data")
    return Task(name, prompt, dataset, dict(sample["config"]), len(items))


async def run_jobs(services: Services) -> None:
    assert services.runner is not None, "the services fixture builds a runner"
    await services.runner.run_until_idle()


async def get_job(api: Api, job_id: str) -> dict[str, Any]:
    data: dict[str, Any] = (await api.call("GET", f"/api/optimizations/{job_id}"))["data"]
    return data


async def get_results(api: Api, job_id: str) -> dict[str, Any]:
    data: dict[str, Any] = (await api.call("GET", f"/api/optimizations/{job_id}/results"))["data"]
    return data


async def all_events(api: Api, job_id: str) -> list[Event]:
    body = await api.call("GET", f"/api/optimizations/{job_id}/events?limit=5000")
    assert body["meta"]["hasMore"] is False
    events: list[Event] = body["data"]
    return events


def of_type(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e["eventType"] == kind]


def proposals(events: list[Event]) -> Iterator[tuple[dict[str, Any], int, float]]:
    """Each mutation_generated's data, with the pool size (fully scored candidates) and the
    best score at the time it was proposed."""
    pool, best = 0, 0.0
    for e in events:
        data = e["data"]
        if e["eventType"] == "evaluation_complete" and data["score"] is not None:
            if data["phase"] in ("baseline", "full"):
                pool += 1
            if data["phase"] == "baseline":
                best = data["score"]
        elif e["eventType"] == "new_best":
            best = data["score"]
        elif e["eventType"] == "mutation_generated":
            yield data, pool, best


def types_of(events: list[Event]) -> list[str]:
    return [e["data"]["mutationType"] for e in of_type(events, "mutation_generated")]


# -- the grammar -------------------------------------------------------------------------


@dataclass
class Run:
    """What the checker learnt from a stream."""

    initial: float | None = None
    best: float | None = None
    iterations: int = 0  # closed iterations after the baseline
    improved_at: list[int] = field(default_factory=list)  # iterations with a new_best
    mutation_types: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None  # the last iteration_complete's (or the baseline's)
    closed: bool = False  # the stream's last step closed the baseline or an iteration
    terminal: str = ""
    budget_stop: bool = False  # then the calls of a cut step are paid but in no event


class _Cursor:
    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.i = 0

    def more(self) -> bool:
        return self.i < len(self.events)

    def peek(self) -> str | None:
        return self.events[self.i]["eventType"] if self.more() else None

    def take(self, kind: str, iteration: int, /, **data: Any) -> Event:
        assert self.more(), f"the stream ends where {kind} was due"
        e = self.events[self.i]
        self.i += 1
        where = f"event {e['id']} ({e['eventType']}, iteration {e['iteration']})"
        assert e["eventType"] == kind, f"{where}: expected {kind}"
        assert e["iteration"] == iteration, f"{where}: expected iteration {iteration}"
        stage = "baseline" if iteration == 0 else STAGES[kind]
        assert e["stage"] == stage, f"{where}: stage {e['stage']}, expected {stage}"
        for key, value in data.items():
            assert e["data"].get(key) == value, f"{where}: {key}={e['data'].get(key)!r}"
        return e


def _add(total: dict[str, float], usage: Mapping[str, Any]) -> None:
    for key in USAGE_FIELDS:
        total[key] = total.get(key, 0) + usage[key]


def _evaluation(
    cur: _Cursor, run: Run, n: int, cid: str, phase: str, paid: dict[str, float]
) -> Event | None:
    """An evaluation_start/evaluation_complete pair; None if the stream stops inside it."""
    start = cur.take("evaluation_start", n, iteration=n, candidateId=cid, phase=phase)
    assert start["data"]["itemCount"] > 0
    if not cur.more():
        return None
    done = cur.take("evaluation_complete", n, iteration=n, candidateId=cid, phase=phase)
    _add(paid, done["data"]["usage"])
    if done["data"].get("aborted"):
        assert done["data"]["score"] is None
        run.aborted.append(done["data"]["aborted"])
        return done
    assert done["data"]["itemCount"] == start["data"]["itemCount"]
    assert 0.0 <= done["data"]["score"] <= 1.0
    assert set(done["data"]["metrics"])
    assert all(0 <= v <= 1 for v in done["data"]["metrics"].values())
    return done


def _iteration(
    cur: _Cursor, run: Run, n: int, min_improvement: float, paid: dict[str, float]
) -> bool:
    """One iteration after the baseline; True when it is closed by iteration_complete."""
    cur.take("iteration_start", n, iteration=n)
    scores: list[float] = []
    cut = False
    slot = 0
    while not cut and cur.peek() == "mutation_generated":
        m = cur.take("mutation_generated", n)["data"]
        slot += 1
        run.mutation_types.append(m["mutationType"])
        assert m["mutationType"] in MUTATION_TYPES
        assert m["candidateId"] == f"cand-{n}-{slot}"
        assert m["parentIds"]
        assert m["status"] in ("kept", "discarded")
        _add(paid, m["usage"])
        if m["status"] == "discarded":
            assert m["prompt"] is None, m
            assert m["violations"], m
            continue
        assert m["violations"] == []
        assert m["prompt"] is not None
        assert m["preview"] == "\n\n".join(_texts(m["prompt"]))[:200]
        cid = m["candidateId"]
        mini = _evaluation(cur, run, n, cid, "minibatch", paid)
        if mini is None:
            return False
        if mini["data"].get("aborted"):
            cut = True
            break
        assert isinstance(mini["data"]["promoted"], bool)
        if not mini["data"]["promoted"]:
            scores.append(mini["data"]["score"])
            continue
        full = _evaluation(cur, run, n, cid, "full", paid)
        if full is None:
            return False
        if full["data"].get("aborted"):
            cut = True
            break
        score = full["data"]["score"]
        scores.append(score)
        assert run.best is not None
        if score > run.best and score - run.best >= min_improvement:
            nb = cur.take("new_best", n, candidateId=cid, score=score, previousScore=run.best)
            assert abs(nb["data"]["improvement"] - (score - run.best)) < 1e-9
            assert nb["data"]["prompt"] == m["prompt"]
            run.best = score
            if not run.improved_at or run.improved_at[-1] != n:
                run.improved_at.append(n)
        else:
            assert cur.peek() != "new_best", f"new_best without a gain of {min_improvement}"
    if not cur.more():
        return False
    done = cur.take("iteration_complete", n, iteration=n, bestScore=run.best)
    usage = done["data"]["usage"]
    if run.usage is not None:
        assert all(usage[k] >= run.usage[k] for k in USAGE_FIELDS), "usage is cumulative"
    if not cut:
        assert done["data"]["scores"] == scores
    if not run.budget_stop:  # every call paid so far is in some event's usage
        assert usage["llmCalls"] == paid["llmCalls"]
        assert usage["inputTokens"] == paid["inputTokens"]
        assert usage["outputTokens"] == paid["outputTokens"]
        assert abs(usage["costUsd"] - paid["costUsd"]) < 1e-9
    run.usage = usage
    run.iterations = n
    return True


def _texts(body: Mapping[str, Any]) -> list[str]:
    if body.get("template") is not None:
        return [str(body["template"])]
    return [str(m["content"]) for m in body["messages"]]


def check_grammar(events: list[Event], *, min_improvement: float = 0.01) -> Run:
    """Assert that ``events`` (a whole job's stream) follows the documented grammar:
    job_started; the baseline (iteration 0); iterations 1, 2, … each opened by
    iteration_start and, unless the job was cancelled inside it, closed by
    iteration_complete; exactly one terminal event, last; ids 1..n. Returns what it saw."""
    assert [e["id"] for e in events] == list(range(1, len(events) + 1)), "ids 1..n"
    assert events
    assert events[0]["eventType"] == "job_started"
    assert events[0]["iteration"] == 0
    assert events[0]["stage"] == "baseline"
    kinds = [e["eventType"] for e in events]
    assert [k in TERMINAL for k in kinds].count(True) == 1, kinds[-3:]
    assert kinds[-1] in TERMINAL, kinds[-3:]
    for a, b in itertools.pairwise(events):
        if a["eventType"] == "job_paused":
            assert b["eventType"] in ("job_resumed", "job_cancelled"), "a pause is followed by"
    for e in events:
        missing = REQUIRED[e["eventType"]] - set(e["data"])
        assert not missing, f"event {e['id']} ({e['eventType']}) lacks {sorted(missing)}"
    body = [e for e in events[1:-1] if e["eventType"] not in CONTROL]
    for e in events:
        if e["eventType"] in CONTROL:  # iteration 0 is the baseline's, whatever the type
            assert e["stage"] == ("baseline" if e["iteration"] == 0 else "selection")
    last = events[-1]
    assert last["stage"] == "finished"
    run = Run(terminal=last["eventType"])
    run.budget_stop = last["data"].get("results", {}).get("stopReason") == "budget"
    cur = _Cursor(body)
    paid: dict[str, float] = {}
    if cur.more():
        base = _evaluation(cur, run, 0, "baseline", "baseline", paid)
        run.closed = base is not None
        if base is not None and base["data"].get("aborted"):  # the job stopped inside it
            assert not cur.more(), f"unexpected event {cur.events[cur.i]}"
        elif base is not None:
            run.initial = run.best = base["data"]["score"]
            run.usage = base["data"]["usage"]
    n = 0
    while run.closed and cur.more():
        n += 1
        run.closed = _iteration(cur, run, n, min_improvement, paid)
    assert not cur.more(), f"unexpected event {cur.events[cur.i]}"
    assert "mutation_generated" not in [e["eventType"] for e in events if e["iteration"] == 0]
    if run.terminal == "job_complete":
        assert run.closed, "a completed job's last step closes the baseline or an iteration"
    return run


# -- comparing streams ---------------------------------------------------------------------


def _scrub(value: Any, ids: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v, ids) for k, v in value.items() if k != "timestamp"}
    if isinstance(value, list):
        return [_scrub(v, ids) for v in value]
    if isinstance(value, str):
        return ids.get(value, value)
    return value


def comparable(events: list[Event], job: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The stream without timestamps, ids of this job, or pause/resume pairs."""
    ids = {job["id"]: "<job>"}
    if job.get("resultPromptId") and job["resultPromptId"] != job["promptId"]:
        ids[job["resultPromptId"]] = "<result prompt>"
    return [
        (e["eventType"], e["iteration"], e["stage"], _scrub(e["data"], ids))
        for e in events
        if e["eventType"] not in CONTROL
    ]


def scrub_results(results: Mapping[str, Any], job: Mapping[str, Any]) -> Any:
    return comparable([{"eventType": "r", "iteration": 0, "stage": "", "data": results}], job)


# -- a step hook around the real engine ---------------------------------------------------

Decide = Callable[[int, str, StepResult], bool]  # (step number, phase run, result)


class HookedOptimizer:
    """The real engine, calling ``hook(ctx, step phase, result)`` after each step and
    before the runner writes it."""

    def __init__(
        self, inner: JobEngine, ctx: JobContext, hook: Callable[..., Awaitable[None]]
    ) -> None:
        self._inner, self._ctx, self._hook = inner, ctx, hook

    def initial_state(self) -> dict[str, Any]:
        return self._inner.initial_state()

    async def step(self, state: dict[str, Any]) -> StepResult:
        result = await self._inner.step(state)
        await self._hook(self._ctx, str(state["phase"]), result)
        return result


class Control:
    """After the first step of the armed job for which ``decide`` is true, runs ``advance``
    (if set; e.g. moves the clock, inside the step's running time) and requests ``action``
    (if any) as a user would. Steps are counted per job across executions. The store is
    given when armed: the engine factory exists before the services do."""

    def __init__(self) -> None:
        self.store: Store | None = None
        self.job_id: str | None = None
        self.decide: Decide | None = None
        self.action: JobAction | None = None
        self.advance: Callable[[], None] | None = None
        self.steps: dict[str, int] = {}
        self.fired_at: int | None = None

    def arm(
        self,
        store: Store,
        job_id: str,
        decide: Decide,
        action: JobAction | None = JobAction.PAUSE,
        advance: Callable[[], None] | None = None,
    ) -> None:
        self.store, self.job_id, self.decide = store, job_id, decide
        self.action, self.advance, self.fired_at = action, advance, None

    async def __call__(self, ctx: JobContext, phase: str, result: StepResult) -> None:
        job_id = ctx.job.id
        self.steps[job_id] = step = self.steps.get(job_id, 0) + 1
        if job_id != self.job_id or self.fired_at is not None or self.decide is None:
            return
        if not self.decide(step, phase, result):
            return
        self.fired_at = step
        if self.advance is not None:
            self.advance()
        if self.action is not None:
            assert self.store is not None
            await self.store.jobs.request(ctx.job.workspace_id, job_id, self.action, "by test")

    def factory(self, inner: EngineFactory | None = None) -> EngineFactory:
        build = inner or OptimizerFactory()
        return lambda ctx: HookedOptimizer(build(ctx), ctx, self)


def after_phase(phase: str, nth: int = 1, next_phase: str | None = None) -> Decide:
    """After the ``nth`` step that ran ``phase`` (and left the engine in ``next_phase``)."""
    seen = [0]

    def decide(step: int, ran: str, result: StepResult) -> bool:
        if ran != phase or (next_phase and result.state["phase"] != next_phase):
            return False
        seen[0] += 1
        return seen[0] == nth

    return decide


def at_step(k: int) -> Decide:
    return lambda step, ran, result: step == k


# -- fake providers --------------------------------------------------------------------------


class ScriptedProvider:
    """A provider that answers every request with ``reply`` (the mutation model of a job
    whose mutationModel is this provider's)."""

    def __init__(self, name: str, reply: str) -> None:
        self.name = name
        self.reply = reply
        self.requests: list[CompletionRequest] = []

    async def complete(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        return Completion(self.reply, 100, max(1, len(self.reply) // 4), request.model)

    async def close(self) -> None:
        return None


class YieldingSim:
    """The simulator behind a network-like boundary: each call yields to the event loop
    before answering (as a real HTTP call would), and every call is recorded."""

    name = "sim"

    def __init__(self) -> None:
        self._sim = SimProvider()
        self.calls: list[Completion] = []
        self.in_flight = 0
        self.peak = 0

    async def complete(self, request: CompletionRequest) -> Completion:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            completion = await self._sim.complete(request)
        finally:
            self.in_flight -= 1
        self.calls.append(completion)
        return completion

    async def close(self) -> None:
        return None
