"""``kill -9`` of a real ``whetstone serve`` mid-job, then a restart on the same data dir.

The restarted node frees the leases its previous run left (same ``node.id``) and resumes
the job from its last checkpoint; another node on the same database does so once the dead
node's lease has run out. The step that was being computed at the kill is computed again
and written once. The job ends as if it had never been interrupted: one event log
with ids 1..N, one terminal event, and the same events, Results and usage as an
uninterrupted run with the same seed on a fresh data dir (the simulator is deterministic,
so "the same" is exact). Each kill lands after a chosen event, seen over the WebSocket, in
the step that follows it (every simulated call takes 60 ms).

A paid provider (the fake OpenAI-compatible server over loopback) shows what "not paid
twice" means: the calls the lost step had completed are answered from the response cache
on the way back; only the call in flight at the kill is sent again.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Literal

import pytest

from tests.reliability.support import (
    SIM_TASK,
    WAIT,
    Event,
    Match,
    Reference,
    Server,
    Stored,
    Task,
    assert_one_clean_log,
    cached_responses,
    child_env,
    comparable_events,
    comparable_results,
    event_is,
    finished,
    follow,
    node_id,
    restart,
    start_job,
    stored_job,
    take_over,
    terminal,
)
from tests.sdk.support import Recorder
from tests.support.fake_llm import OPENAI_KEY, FakeLLM, Reply, fake_llm
from tests.support.role_llm import ITEMS, TEMPLATE, RoleResponder
from whetstone.sdk import AsyncWhetstone, ReconnectPolicy
from whetstone.sdk import Event as SdkEvent

# Where each kill lands: right after this event, in the step that computes the next one,
# whose type (in the reference run) is the second item. The third says who resumes the
# job: the same node restarted, or another node once the dead one's lease has run out.
KILL_POINTS: dict[str, tuple[Match, str, str]] = {
    # iteration 2's first candidate is being evaluated on its minibatch
    "during-evaluation": (
        event_is("evaluation_start", 2, candidateId="cand-2-1"),
        "evaluation_complete",
        "same node",
    ),
    # that evaluation is written; the second candidate is being proposed
    "during-mutation": (
        event_is("evaluation_complete", 2, candidateId="cand-2-1", phase="minibatch"),
        "mutation_generated",
        "same node",
    ),
    # iteration 1 is closed and checkpointed; iteration 2 is starting
    "between-iterations": (event_is("iteration_complete", 1), "iteration_start", "other node"),
}
USAGE = frozenset({"usage"})
RECONNECT = ReconnectPolicy(initial_delay=0.05, max_delay=0.25, max_attempts=None)


def assert_clean_stop(server: Server) -> None:
    code = server.stop()
    assert "Traceback" not in server.log, server.log
    assert code in (0, -15), server.log


@pytest.mark.parametrize("point", list(KILL_POINTS))
async def test_a_job_killed_mid_run_resumes_and_ends_as_an_uninterrupted_run(
    point: str, reference: Reference, tmp_path: Path
) -> None:
    trigger, next_kind, resumer = KILL_POINTS[point]
    server = await asyncio.to_thread(Server(tmp_path / "data", child_env()).start)
    dead_node = node_id(server)
    try:
        job_id = await start_job(server, SIM_TASK)
        seen = await follow(server, job_id, trigger)
        server.kill()
        crash = stored_job(server.data_dir, job_id)
        if resumer == "same node":
            server = await asyncio.to_thread(restart, server)
        else:
            server = await asyncio.to_thread(take_over, server, tmp_path / "other")
        streamed = await follow(server, job_id, terminal)
        run = await finished(server, job_id)
    finally:
        assert_clean_stop(server)
    ref = await reference.run()

    # the kill hit a running job after the chosen event; the step after it was lost
    assert crash.status == "running"
    assert crash.lease_owner is not None
    assert crash.lease_owner.startswith(f"{dead_node}:")  # still leased to the dead node
    assert (node_id(server) == dead_node) == (resumer == "same node")
    assert seen[-1]["id"] <= crash.last_event_id < len(run.events) - 1
    assert ref.events[seen[-1]["id"]]["eventType"] == next_kind
    # one log, ids 1..N, one terminal event; the WebSocket and REST agree on it
    assert_one_clean_log(run)
    assert streamed == run.events
    assert run.events[: len(seen)] == seen
    # the same run as the uninterrupted one: every event, the Results, the usage
    assert comparable_events(run) == comparable_events(ref)
    assert comparable_results(run) == comparable_results(ref)
    assert run.usage == ref.usage
    assert run.usage["llmCalls"] > 0
    assert run.usage["costUsd"] > 0


def wire(event: SdkEvent) -> Event:
    return {"eventType": event.type, "iteration": event.iteration, "data": event.data}


async def test_a_subscriber_connected_across_two_kills_gets_every_event_once_in_order(
    reference: Reference, tmp_path: Path
) -> None:
    kills = [
        event_is("evaluation_start", 1, phase="full"),
        event_is("mutation_generated", 2, candidateId="cand-2-2"),
    ]
    killed = [asyncio.Event() for _ in kills]
    rec = Recorder()
    server = await asyncio.to_thread(Server(tmp_path / "data", child_env()).start)

    async def on_event(event: SdkEvent) -> None:
        await rec.on_event(event)
        n = sum(k.is_set() for k in killed)
        if n < len(kills) and kills[n](wire(event)):
            server.kill()  # while the SDK is connected to it
            killed[n].set()

    crashes: list[Stored] = []
    try:
        job_id = await start_job(server, SIM_TASK)
        async with AsyncWhetstone(
            server.url, server.key, reconnect=RECONNECT, trust_env=False
        ) as client:
            sub = client.optimization.subscribe(
                job_id,
                on_event,
                rec.on_complete,
                rec.on_error,
                rec.on_state,
                after_event_id=0,
            )
            for each in killed:
                await asyncio.wait_for(each.wait(), WAIT)
                crashes.append(stored_job(server.data_dir, job_id))
                server = await asyncio.to_thread(restart, server)
            results = await asyncio.wait_for(sub.wait(), WAIT)
            await rec.closed()
        run = await finished(server, job_id)
    finally:
        assert_clean_stop(server)
    ref = await reference.run()

    assert [c.status for c in crashes] == ["running", "running"]
    assert crashes[0].last_event_id < crashes[1].last_event_id < len(run.events)
    assert_one_clean_log(run)
    assert rec.ids == list(range(1, len(run.events) + 1))
    assert [e.type for e in rec.events] == [e["eventType"] for e in run.events]
    assert [e.data for e in rec.events] == [e["data"] for e in run.events]
    assert rec.errors == []
    assert len(rec.results) == 1
    assert results is not None
    assert results.final_score == ref.results["finalScore"]
    assert rec.states.count("reconnecting") >= len(kills)
    assert rec.states[-1] == "closed"
    assert comparable_events(run) == comparable_events(ref)
    assert run.usage == ref.usage


# Two iterations of two rephrasings on three questions, scored by exact_match and the
# g_eval judge, one call at a time: 18 requests, in an order fixed by the seed. Request 10
# is the first judge call of candidate cand-1-1's minibatch evaluation, after its two task
# calls (requests 8 and 9) have been answered.
PAID_TASK = Task(
    TEMPLATE,
    ITEMS,
    {
        "maxIterations": 2,
        "candidatesPerIteration": 2,
        "mutationTypes": ["rephrase"],
        "evaluationMetrics": ["exact_match", "g_eval"],
        "seed": 7,
        "concurrency": 1,
        "model": "openai/fake-gpt",
        "tuningParams": {"minibatchSize": 2},
    },
)
HANG_AT = 10
PRICES = {"openai/fake-gpt": [1000.0, 2000.0]}


class Tripwire(asyncio.Event):
    """The fake's ``release``, which a hung request waits on: ``reached`` is set as one
    starts to wait."""

    def __init__(self) -> None:
        super().__init__()
        self.reached = asyncio.Event()

    async def wait(self) -> Literal[True]:
        self.reached.set()
        return await super().wait()


def paid_env(fake: FakeLLM) -> dict[str, str]:
    return child_env(
        WHETSTONE_OPENAI_BASE_URL=fake.openai_url,
        WHETSTONE_OPENAI_API_KEY=OPENAI_KEY,
        WHETSTONE_PRICES=json.dumps(PRICES),
    )


def sent(fake: FakeLLM) -> Counter[str]:
    return Counter(json.dumps(r.body, sort_keys=True) for r in fake.requests)


async def until_cached(data_dir: Path, count: int) -> None:
    """Wait (bounded) until the store holds ``count`` cached answers: the gateway stores an
    answer just after the call, so the next call may already be out."""
    async with asyncio.timeout(WAIT):
        while await asyncio.to_thread(cached_responses, data_dir) < count:
            pass


async def test_paid_calls_completed_before_a_kill_are_not_sent_again(tmp_path: Path) -> None:
    async with (
        fake_llm(responder=RoleResponder()) as ref_fake,
        fake_llm(responder=RoleResponder()) as fake,
    ):
        tripwire = fake.release = Tripwire()
        fake.push(*[Reply()] * (HANG_AT - 1), Reply(hang=True))
        ref_server = Server(tmp_path / "ref", paid_env(ref_fake))
        server = Server(tmp_path / "crash", paid_env(fake))
        try:
            await asyncio.gather(
                asyncio.to_thread(ref_server.start), asyncio.to_thread(server.start)
            )
            ref_id = await start_job(ref_server, PAID_TASK)
            job_id = await start_job(server, PAID_TASK)
            await asyncio.wait_for(tripwire.reached.wait(), WAIT)
            await until_cached(server.data_dir, HANG_AT - 1)
            server.kill()  # request HANG_AT is in flight, the ones before it are answered
            crash = stored_job(server.data_dir, job_id)
            hung = json.dumps(fake.requests[-1].body, sort_keys=True)
            server = await asyncio.to_thread(restart, server)
            await follow(server, job_id, terminal)
            await follow(ref_server, ref_id, terminal)
            run, ref = await finished(server, job_id), await finished(ref_server, ref_id)
        finally:
            ref_code = ref_server.stop()
            assert_clean_stop(server)
    assert ref_code in (0, -15), ref_server.log

    assert (crash.status, crash.phase) == ("running", "minibatch")
    assert len(fake.requests) == len(ref_fake.requests) + 1
    # every request answered before the kill was sent once; only the one in flight again
    assert sent(fake) == sent(ref_fake) + Counter([hung])
    assert max(sent(ref_fake).values()) == 1
    assert_one_clean_log(run)
    assert comparable_events(run, drop=USAGE) == comparable_events(ref, drop=USAGE)
    assert comparable_results(run, drop=USAGE) == comparable_results(ref, drop=USAGE)
    # The lost step's answered calls came back from the response cache: the job's usage
    # counts them as cached (free) calls, not as paid ones, though they were paid once,
    # before the kill (an accounting gap of at most one step; see docs/reliability.md).
    answered_in_lost_step = run.usage["cachedCalls"] - ref.usage["cachedCalls"]
    assert answered_in_lost_step == 2
    assert run.usage["llmCalls"] == ref.usage["llmCalls"] - answered_in_lost_step
    total = ("llmCalls", "cachedCalls")
    assert sum(run.usage[k] for k in total) == sum(ref.usage[k] for k in total)
    paid_and_saved = run.usage["costUsd"] + run.usage["cachedCostUsd"]
    assert paid_and_saved == pytest.approx(ref.usage["costUsd"] + ref.usage["cachedCostUsd"])
