"""A USD budget on a real provider: the job stops with ``stopReason: budget`` once what the
fake billed, at the settings' prices, reaches ``maxCostUsd``; it overshoots by no more
than the calls that were in flight, at most ``concurrency`` of them."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PRICES
from tests.e2e.helpers import run, run_one, task
from tests.engine.optimizer_helpers import check_grammar
from tests.support.api import Api
from tests.support.fake_llm import FakeLLM
from tests.support.role_llm import RoleResponder
from whetstone.server.services import Services

MODEL = "openai/fake-gpt"
MODELS = dict.fromkeys(("task", "mutation", "judge"), MODEL)
MAX_COST_USD = 0.5  # the whole job, unbounded, costs about 1.19 USD at PRICES


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_a_usd_budget_stops_the_job(
    api: Api, services: Services, fake: FakeLLM, responder: RoleResponder, concurrency: int
) -> None:
    done = await run_one(
        api,
        services,
        model=MODEL,
        concurrency=concurrency,
        budget={"maxCostUsd": MAX_COST_USD},
    )

    assert done.job["status"] == "completed", done.events[-1]
    assert done.job["stopReason"] == "budget"
    run = check_grammar(done.events)
    assert run.budget_stop
    cost = done.usage["costUsd"]
    assert done.usage["llmCalls"] == len(fake.requests) == len(responder.answered)
    assert cost == pytest.approx(responder.cost(MODELS, PRICES), abs=1e-9)
    most = max(a.cost(PRICES[MODEL]) for a in responder.answered)
    assert MAX_COST_USD <= cost <= MAX_COST_USD + concurrency * most
    if concurrency == 1:  # one call at a time: every call but the last went out under the cap
        assert sum(a.cost(PRICES[MODEL]) for a in responder.answered[:-1]) < MAX_COST_USD


async def test_cached_answers_take_no_budget(api: Api, services: Services, fake: FakeLLM) -> None:
    """The same job again, under a budget the first one exceeded: every answer is cached,
    so it costs nothing and runs to its end."""
    same = await task(api)
    first = await run(api, services, await same.start(model=MODEL))
    assert first.usage["costUsd"] > MAX_COST_USD
    sent = len(fake.requests)

    second = await run(
        api, services, await same.start(model=MODEL, budget={"maxCostUsd": MAX_COST_USD})
    )
    assert second.job["status"] == "completed", second.events[-1]
    assert second.job["stopReason"] == "max_iterations"
    assert second.usage["costUsd"] == 0
    assert second.usage["cachedCostUsd"] > MAX_COST_USD
    assert len(fake.requests) == sent
