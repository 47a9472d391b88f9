"""Evaluator: renders each item into the prompt, calls the task model, scores, in order."""

from __future__ import annotations

import asyncio

import pytest

from tests.engine.fakes import WAIT_SECONDS, FakeProvider, ListItems
from whetstone.domain.config import Budget, MetricSpec
from whetstone.domain.dataset import Item
from whetstone.domain.prompt import Message, PromptBody
from whetstone.engine.evaluation import Evaluator
from whetstone.engine.llm import BudgetExhausted, LLMGateway, Role
from whetstone.engine.pricing import PriceTable
from whetstone.errors import InvalidRequest
from whetstone.metrics.base import MetricDeps
from whetstone.metrics.registry import build_scorer
from whetstone.providers.base import Completion, CompletionRequest, Provider

QUESTIONS = ["2+2", "3+3", "5+5", "7+1", "9+0"]
ANSWERS = {"2+2": "4", "3+3": "6", "5+5": "10", "7+1": "8", "9+0": "9"}


def dataset() -> ListItems:
    return ListItems(
        [Item(f"it_{n}", "ds_1", n, {"question": q}, ANSWERS[q]) for n, q in enumerate(QUESTIONS)]
    )


def answer_for(question: str) -> str:
    """Right for every question but 5+5."""
    return "eleven" if question == "5+5" else ANSWERS[question]


def question_of(request: CompletionRequest) -> str:
    text = "\n".join(m.content for m in request.messages)
    return next(q for q in QUESTIONS if q in text)


def answer(request: CompletionRequest) -> str:
    return answer_for(question_of(request))


def evaluator(
    provider: Provider,
    *,
    budget: Budget | None = None,
    concurrency: int = 8,
) -> tuple[Evaluator, LLMGateway]:
    llm = LLMGateway(
        {provider.name: provider},
        dict.fromkeys(Role, "fake/task"),
        prices=PriceTable(),
        budget=budget,
        concurrency=concurrency,
    )
    scorer = build_scorer(
        [MetricSpec(name="exact_match"), MetricSpec(name="contains", weight=3.0)],
        MetricDeps(),
    )
    return Evaluator(llm, scorer, dataset(), seed=5), llm


async def test_template_is_rendered_with_the_item_input() -> None:
    provider = FakeProvider(reply=answer)
    ev, _ = evaluator(provider)

    await ev.run(PromptBody(template="Reply in digits. What is {question}?"), [0])

    (request,) = provider.requests
    assert [(m.role, m.content) for m in request.messages] == [
        ("user", "Reply in digits. What is 2+2?")
    ]
    assert request.hints["role"] == "task"
    assert request.hints["expected"] == "4"


async def test_messages_are_rendered_keeping_their_roles() -> None:
    provider = FakeProvider(reply=answer)
    ev, _ = evaluator(provider)
    body = PromptBody(
        messages=(
            Message("system", "You do arithmetic. Use {{braces}} for sets."),
            Message("user", "What is {question}?"),
            Message("assistant", "Send the question."),
        )
    )

    await ev.run(body, [1])

    (request,) = provider.requests
    assert [(m.role, m.content) for m in request.messages] == [
        ("system", "You do arithmetic. Use {braces} for sets."),
        ("user", "What is 3+3?"),
        ("assistant", "Send the question."),
    ]


async def test_outputs_are_scored_with_the_weighted_metrics() -> None:
    ev, _ = evaluator(FakeProvider(reply=answer))

    right, wrong = await ev.run(PromptBody(template="What is {question}?"), [0, 2])

    assert right.output == "4"
    assert right.scored.score == 1.0
    assert right.row() == [1.0, 1.0, 1.0]
    assert wrong.output == "eleven"
    assert wrong.scored.metrics == {"exact_match": 0.0, "contains": 0.0}
    assert wrong.row() == [0.0, 0.0, 0.0]
    assert "10" in wrong.scored.feedback


async def test_partial_credit_is_the_weighted_mean() -> None:
    ev, _ = evaluator(FakeProvider(reply=lambda r: f"The answer is {answer(r)}."))
    (result,) = await ev.run(PromptBody(template="What is {question}?"), [0])
    # exact_match 0 (weight 1), contains 1 (weight 3)
    assert result.scored.score == pytest.approx(0.75)
    assert result.row() == pytest.approx([0.75, 0.0, 1.0])


class OneGatePerQuestion:
    """A Provider whose every call waits for its question's own gate, so a test decides
    the order in which calls finish."""

    name = "fake"

    def __init__(self) -> None:
        self.gates = {q: asyncio.Event() for q in QUESTIONS}
        self.done = {q: asyncio.Event() for q in QUESTIONS}
        self.started: list[str] = []
        self.finished: list[str] = []

    async def complete(self, request: CompletionRequest) -> Completion:
        question = question_of(request)
        self.started.append(question)
        await self.gates[question].wait()
        self.finished.append(question)
        self.done[question].set()
        return Completion(answer(request), 1, 1, request.model)

    async def close(self) -> None:
        return None


async def test_results_follow_the_positions_not_the_completion_order() -> None:
    provider = OneGatePerQuestion()
    ev, _ = evaluator(provider)
    positions = [3, 0, 4, 1]
    asked = [QUESTIONS[p] for p in positions]
    run = asyncio.create_task(ev.run(PromptBody(template="What is {question}?"), positions))

    for question in reversed(asked):  # finish the last position first
        provider.gates[question].set()
        await asyncio.wait_for(provider.done[question].wait(), WAIT_SECONDS)
    results = await asyncio.wait_for(run, WAIT_SECONDS)

    assert provider.finished == list(reversed(asked))
    assert [r.position for r in results] == positions
    assert [r.item.position for r in results] == positions
    assert [r.output for r in results] == [answer_for(q) for q in asked]


async def test_no_positions_means_no_calls() -> None:
    provider = FakeProvider(reply=answer)
    ev, _ = evaluator(provider)
    assert await ev.run(PromptBody(template="{question}"), []) == []
    assert provider.requests == []


async def test_budget_stop_waits_for_every_call_so_usage_counts_them() -> None:
    provider = FakeProvider(reply=answer, input_tokens=7, output_tokens=3, gated=True)
    ev, llm = evaluator(provider, budget=Budget(max_llm_calls=2))
    run = asyncio.create_task(ev.run(PromptBody(template="{question}"), [0, 1, 2, 3, 4]))

    await provider.until_in_flight(2)  # two admitted; the other three are refused at once
    provider.gate.set()
    with pytest.raises(BudgetExhausted):
        await asyncio.wait_for(run, WAIT_SECONDS)

    assert provider.finished == 2  # the run did not raise before they finished
    assert llm.usage.llm_calls == 2
    assert llm.usage.total_tokens == 20


async def test_a_missing_variable_is_an_invalid_request() -> None:
    provider = FakeProvider(reply=answer)
    ev, _ = evaluator(provider)
    with pytest.raises(InvalidRequest, match="context"):
        await ev.run(PromptBody(template="Context: {context}\nQ: {question}"), [0, 1])
    assert provider.requests == []


async def test_a_missing_variable_in_a_message_is_an_invalid_request() -> None:
    ev, _ = evaluator(FakeProvider(reply=answer))
    body = PromptBody(messages=(Message("system", "Tone: {tone}"), Message("user", "{question}")))
    with pytest.raises(InvalidRequest, match="tone"):
        await ev.run(body, [0])
