"""The response cache across whole jobs: the same job again in the same workspace is
answered from the store and sends nothing; another workspace shares nothing; with
``response_cache`` off every call is paid."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import Finished, Task, run, task
from tests.engine.optimizer_helpers import check_grammar, comparable, get_results, scrub_results
from tests.support.api import Api
from tests.support.fake_llm import FakeLLM
from whetstone.server.services import Services

MODEL = "openai/fake-gpt"


async def _run_each(
    tasks: list[Task], services: Services, fake: FakeLLM
) -> list[tuple[Finished, int]]:
    """The same job (same config and seed) on each task in turn; each with how many
    requests the fake saw while it ran."""
    runs: list[tuple[Finished, int]] = []
    for each in tasks:
        before = len(fake.requests)
        done = await run(each.api, services, await each.start(model=MODEL))
        assert done.job["status"] == "completed", done.events[-1]
        check_grammar(done.events)
        runs.append((done, len(fake.requests) - before))
    return runs


def _paid_and_cached(done: Finished) -> tuple[int, float]:
    """Calls made, paid or not, and what they cost or would have."""
    usage = done.usage
    return usage["llmCalls"] + usage["cachedCalls"], usage["costUsd"] + usage["cachedCostUsd"]


async def test_the_same_job_again_in_a_workspace_is_answered_from_the_cache(
    api: Api, services: Services, fake: FakeLLM
) -> None:
    same = await task(api)
    (first, sent_first), (second, sent_second) = await _run_each([same, same], services, fake)

    assert first.usage["llmCalls"] == sent_first > 0
    assert sent_second == 0  # every request was the first job's: nothing sent
    assert second.usage["llmCalls"] == 0
    assert (second.usage["inputTokens"], second.usage["outputTokens"]) == (0, 0)
    assert second.usage["costUsd"] == 0
    assert second.usage["cachedCalls"] == first.usage["llmCalls"] + first.usage["cachedCalls"]
    (calls, cost), (calls_again, cost_again) = map(_paid_and_cached, (first, second))
    assert calls_again == calls
    assert cost_again == pytest.approx(cost, abs=1e-9)
    # The cached answers are the answers: the second job ran exactly as the first.
    results = [await get_results(api, d.job["id"]) for d in (first, second)]
    for r in results:
        r.pop("usage")
    assert scrub_results(results[1], second.job) == scrub_results(results[0], first.job)
    assert _without_usage(comparable(second.events, second.job)) == _without_usage(
        comparable(first.events, first.job)
    )


async def test_another_workspace_does_not_get_the_cached_answers(
    api: Api, other_api: Api, services: Services, fake: FakeLLM
) -> None:
    tasks = [await task(api), await task(other_api)]
    (first, sent_first), (other, sent_other) = await _run_each(tasks, services, fake)

    assert sent_other == sent_first > 0
    assert other.usage == first.usage  # the same calls, paid again, cached alike


@pytest.mark.parametrize("settings_overrides", [{"response_cache": False}])
async def test_with_the_cache_off_every_call_is_paid(
    api: Api, services: Services, fake: FakeLLM
) -> None:
    same = await task(api)
    (first, sent_first), (second, sent_second) = await _run_each([same, same], services, fake)

    for done, sent in ((first, sent_first), (second, sent_second)):
        assert done.usage["cachedCalls"] == 0
        assert done.usage["cachedCostUsd"] == 0
        assert done.usage["llmCalls"] == sent > 0
    assert sent_second == sent_first
    assert second.usage == first.usage


def _without_usage(value: Any) -> Any:
    """``value`` without its ``usage`` objects (the one thing the cache changes)."""
    if isinstance(value, dict):
        return {k: _without_usage(v) for k, v in value.items() if k != "usage"}
    if isinstance(value, list | tuple):
        return [_without_usage(v) for v in value]
    return value
