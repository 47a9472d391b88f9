"""LLMGateway: role routing, usage and cost, bounded concurrency, and exact budgets."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from tests.engine.fakes import FakeProvider
from whetstone.domain.config import Budget
from whetstone.domain.usage import Usage
from whetstone.engine.llm import BudgetExhausted, LLMGateway, Role
from whetstone.engine.pricing import Price, PriceTable
from whetstone.providers.base import ChatMessage, Provider

HELLO = [ChatMessage("user", "hello")]


def gateway(
    provider: FakeProvider,
    *,
    model: str = "fake/model",
    budget: Budget | None = None,
    concurrency: int = 8,
    prices: PriceTable | None = None,
    usage: Usage | None = None,
) -> LLMGateway:
    providers: Mapping[str, Provider] = {provider.name: provider}
    return LLMGateway(
        providers,
        dict.fromkeys(Role, model),
        prices=prices or PriceTable(),
        budget=budget,
        concurrency=concurrency,
        usage=usage,
    )


async def call_many(llm: LLMGateway, n: int) -> list[object]:
    tasks = [asyncio.create_task(llm.complete(Role.TASK, HELLO)) for _ in range(n)]
    return list(await asyncio.gather(*tasks, return_exceptions=True))


def refused(outcomes: list[object]) -> int:
    return sum(isinstance(o, BudgetExhausted) for o in outcomes)


async def test_each_role_goes_to_its_provider_and_model() -> None:
    openai = FakeProvider("openai", reply=lambda r: f"openai:{r.model}")
    anthropic = FakeProvider("anthropic", reply=lambda r: f"anthropic:{r.model}")
    sim = FakeProvider("sim", reply=lambda r: f"sim:{r.model}")
    models = {
        Role.TASK: "openai/gpt-4o-mini",
        Role.MUTATION: "anthropic/claude-sonnet-4-5",
        Role.JUDGE: "sim/default",
    }
    llm = LLMGateway(
        {"openai": openai, "anthropic": anthropic, "sim": sim},
        models,
        prices=PriceTable(),
        budget=None,
        concurrency=4,
    )

    assert (await llm.complete(Role.TASK, HELLO)).text == "openai:gpt-4o-mini"
    assert (await llm.complete(Role.MUTATION, HELLO)).text == "anthropic:claude-sonnet-4-5"
    assert (await llm.complete(Role.JUDGE, HELLO)).text == "sim:default"
    assert [len(p.requests) for p in (openai, anthropic, sim)] == [1, 1, 1]
    assert llm.model(Role.MUTATION) == "anthropic/claude-sonnet-4-5"


async def test_request_carries_messages_hints_and_sampling_options() -> None:
    provider = FakeProvider()
    llm = gateway(provider)
    messages = [ChatMessage("system", "Be brief."), ChatMessage("user", "2+2?")]

    await llm.complete(Role.TASK, messages, hints={"role": "task"}, temperature=0.7, max_tokens=9)

    (request,) = provider.requests
    assert request.messages == tuple(messages)
    assert dict(request.hints) == {"role": "task"}
    assert (request.temperature, request.max_tokens) == (0.7, 9)


async def test_usage_is_summed_across_roles_with_cost_from_the_price_table() -> None:
    providers = {n: FakeProvider(n, input_tokens=1000, output_tokens=500) for n in ("o", "a", "s")}
    llm = LLMGateway(
        {"openai": providers["o"], "anthropic": providers["a"], "sim": providers["s"]},
        {
            Role.TASK: "openai/gpt-4o-mini",  # 0.15 in, 0.60 out per Mtok
            Role.MUTATION: "anthropic/claude-sonnet-4-5",  # 3 in, 15 out
            Role.JUDGE: "sim/default",  # billed like gpt-4o-mini
        },
        prices=PriceTable(),
        budget=None,
        concurrency=4,
    )
    for role in Role:
        await llm.complete(role, HELLO)

    usage = llm.usage
    assert (usage.llm_calls, usage.input_tokens, usage.output_tokens) == (3, 3000, 1500)
    assert usage.cost_usd == pytest.approx(0.00045 + 0.0105 + 0.00045)


@pytest.mark.parametrize(
    ("model", "prices", "expected"),
    [
        ("sim/fast", PriceTable(), 0.15 + 0.60),  # any sim/ model bills like gpt-4o-mini
        ("local/llama3", PriceTable(), 0.0),  # unknown: free, tokens still counted
        ("local/llama3", PriceTable({"local/llama3": Price(1.0, 2.0)}), 3.0),
        ("openai/gpt-4o-mini", PriceTable({"openai/gpt-4o-mini": Price(5.0, 5.0)}), 10.0),
    ],
)
async def test_cost_of_a_call(model: str, prices: PriceTable, expected: float) -> None:
    provider = FakeProvider(model.partition("/")[0], input_tokens=10**6, output_tokens=10**6)
    llm = gateway(provider, model=model, prices=prices)

    await llm.complete(Role.TASK, HELLO)

    assert llm.usage.total_tokens == 2 * 10**6
    assert llm.usage.cost_usd == pytest.approx(expected)


async def test_calls_in_flight_never_exceed_concurrency() -> None:
    provider = FakeProvider(gated=True)
    llm = gateway(provider, concurrency=4)
    tasks = [asyncio.create_task(llm.complete(Role.TASK, HELLO)) for _ in range(50)]

    await provider.until_in_flight(4)  # the gateway does let `concurrency` calls run at once
    assert llm.in_flight == 4
    provider.gate.set()
    await asyncio.gather(*tasks)

    assert provider.finished == 50
    assert llm.peak_in_flight == 4
    assert provider.peak == 4  # measured on the provider's side too
    assert llm.in_flight == 0


async def test_max_llm_calls_is_exact_under_concurrent_callers() -> None:
    provider = FakeProvider(gated=True)
    llm = gateway(provider, budget=Budget(max_llm_calls=7), concurrency=3)
    tasks = [asyncio.create_task(llm.complete(Role.TASK, HELLO)) for _ in range(50)]

    await provider.until_in_flight(3)
    provider.gate.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)

    assert refused(list(outcomes)) == 43
    assert len(provider.requests) == 7
    assert llm.usage.llm_calls == 7
    assert llm.exhausted() == "maxLlmCalls"
    with pytest.raises(BudgetExhausted, match="maxLlmCalls"):
        await llm.complete(Role.TASK, HELLO)
    assert len(provider.requests) == 7


async def test_max_tokens_refuses_new_calls_once_reached() -> None:
    provider = FakeProvider(input_tokens=30, output_tokens=10)  # 40 tokens a call
    llm = gateway(provider, budget=Budget(max_tokens=100))

    for _ in range(3):  # 40, 80: under the cap, so the third call still runs
        assert llm.exhausted() is None
        await llm.complete(Role.TASK, HELLO)

    assert llm.usage.total_tokens == 120
    assert llm.exhausted() == "maxTokens"
    with pytest.raises(BudgetExhausted, match="maxTokens"):
        await llm.complete(Role.JUDGE, HELLO)
    assert len(provider.requests) == 3


async def test_max_cost_refuses_new_calls_once_reached() -> None:
    # gpt-4o-mini input: $0.15 per million tokens, so $0.15 a call
    provider = FakeProvider("openai", input_tokens=10**6, output_tokens=0)
    llm = gateway(provider, model="openai/gpt-4o-mini", budget=Budget(max_cost_usd=0.4))

    for _ in range(3):
        await llm.complete(Role.TASK, HELLO)

    assert llm.usage.cost_usd == pytest.approx(0.45)
    assert llm.exhausted() == "maxCostUsd"
    with pytest.raises(BudgetExhausted, match="maxCostUsd"):
        await llm.complete(Role.MUTATION, HELLO)
    assert len(provider.requests) == 3


async def test_overshoot_is_at_most_the_calls_in_flight() -> None:
    provider = FakeProvider(input_tokens=30, output_tokens=10, gated=True)
    llm = gateway(provider, budget=Budget(max_tokens=100), concurrency=3)
    tasks = [asyncio.create_task(llm.complete(Role.TASK, HELLO)) for _ in range(3)]

    await provider.until_in_flight(3)  # all three admitted while usage was 0
    provider.gate.set()
    await asyncio.gather(*tasks)

    assert llm.usage.total_tokens == 120  # overshoot 20 <= the 120 those three used
    with pytest.raises(BudgetExhausted):
        await llm.complete(Role.TASK, HELLO)


def spent(usage: Usage, cap: str) -> float:
    return usage.total_tokens if cap == "maxTokens" else usage.cost_usd


@pytest.mark.parametrize(
    ("budget", "cap", "limit", "input_tokens", "output_tokens", "per_call"),
    [
        pytest.param(Budget(max_tokens=100), "maxTokens", 100, 30, 10, 40, id="maxTokens"),
        # gpt-4o-mini input: $0.15 per million tokens
        pytest.param(Budget(max_cost_usd=0.4), "maxCostUsd", 0.4, 10**6, 0, 0.15, id="maxCostUsd"),
    ],
)
async def test_calls_queued_for_a_slot_are_refused_once_the_cap_is_reached(
    budget: Budget, cap: str, limit: float, input_tokens: int, output_tokens: int, per_call: float
) -> None:
    """Only calls in flight may overshoot: callers still waiting for one of the
    ``concurrency`` slots when the cap is reached must be refused, not sent."""
    provider = FakeProvider(
        "openai", input_tokens=input_tokens, output_tokens=output_tokens, gated=True
    )
    llm = gateway(provider, model="openai/gpt-4o-mini", budget=budget, concurrency=2)
    tasks = [asyncio.create_task(llm.complete(Role.TASK, HELLO)) for _ in range(10)]

    await provider.until_in_flight(2)  # 2 in flight, 8 waiting for a slot
    provider.gate.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)

    used = spent(llm.usage, cap)
    assert llm.exhausted() == cap
    assert used - limit <= 2 * per_call + 1e-9, f"{cap}: spent {used} of {limit}"
    assert refused(list(outcomes)) > 0


async def test_no_budget_is_never_exhausted() -> None:
    provider = FakeProvider(input_tokens=10**6, output_tokens=10**6)
    llm = gateway(provider, budget=None)
    await call_many(llm, 20)
    assert llm.exhausted() is None
    assert llm.usage.llm_calls == 20


async def test_reset_usage_continues_from_a_checkpoint() -> None:
    provider = FakeProvider(input_tokens=10, output_tokens=5)
    llm = gateway(provider, budget=Budget(max_llm_calls=5))
    await llm.complete(Role.TASK, HELLO)  # counted before the reset, then replaced

    llm.reset_usage(Usage(3, 100, 50, 0.25))
    assert llm.usage == Usage(3, 100, 50, 0.25)
    outcomes = await call_many(llm, 4)

    assert refused(outcomes) == 2  # 3 already spent: 2 of the 5 remain
    assert llm.usage.llm_calls == 5
    assert (llm.usage.input_tokens, llm.usage.output_tokens) == (120, 60)
    assert llm.exhausted() == "maxLlmCalls"


async def test_usage_given_at_construction_counts_against_the_budget() -> None:
    provider = FakeProvider()
    llm = gateway(provider, budget=Budget(max_llm_calls=2), usage=Usage(2, 0, 0, 0.0))
    assert llm.exhausted() == "maxLlmCalls"
    with pytest.raises(BudgetExhausted):
        await llm.complete(Role.TASK, HELLO)
    assert provider.requests == []
