"""``SimProvider``: dispatches on ``hints["role"]`` and reports estimated token counts."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from whetstone.providers.base import ChatMessage, Completion, CompletionRequest
from whetstone.providers.sim.provider import SimProvider, estimate_tokens
from whetstone.providers.sim.roles import judge_verdict, mutation, task_answer

MESSAGES = (
    ChatMessage("system", "You are a careful assistant."),
    ChatMessage("user", "Give only the number as the answer.\nQuestion: 2+2"),
)
TASK = {"role": "task", "prompt": "Give only the number as the answer.\n{q}", "expected": "4"}
JUDGE = {"role": "judge", "prompt": "{q}", "expected": "Answer: 4", "output": "4"}
MUTATION = {
    "role": "mutation",
    "strategy": "reflective",
    "seed": 3,
    "nonce": "c1",
    "parents": ["Answer the question.\n\n{q}"],
    "failures": [{"expected": "42", "output": "x", "sim": None}],
}


async def complete(hints: dict[str, Any], model: str = "default") -> Completion:
    request = CompletionRequest(model=model, messages=MESSAGES, hints=hints)
    return await SimProvider().complete(request)


@pytest.mark.parametrize(
    ("text", "tokens"), [("", 1), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100)]
)
def test_estimate_tokens_is_four_characters_a_token(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


@pytest.mark.parametrize(
    ("hints", "role_answer"),
    [(TASK, task_answer), (JUDGE, judge_verdict), (MUTATION, mutation)],
)
async def test_complete_answers_as_the_role_in_the_hints(
    hints: dict[str, Any], role_answer: Callable[[Mapping[str, Any]], str]
) -> None:
    completion = await complete(hints)
    assert completion.text == role_answer(hints)


async def test_the_task_role_answers_the_item() -> None:
    assert (await complete(TASK)).text == "4"
    assert (await complete(TASK | {"prompt": "{q}"})).text == "The result is 4."


async def test_the_judge_role_answers_json() -> None:
    data = json.loads((await complete(JUDGE)).text)
    assert 0 <= data["score"] <= 10
    assert "Answer: " in data["reason"]


async def test_the_mutation_role_answers_a_prompt_envelope() -> None:
    text = (await complete(MUTATION)).text
    assert text.startswith("<prompt>\n")
    assert text.endswith("\n{q}\n</prompt>")


@pytest.mark.parametrize("hints", [{}, {"role": "embedding"}, {"role": None}])
async def test_an_unknown_role_gets_a_placeholder_answer(hints: dict[str, Any]) -> None:
    completion = await complete(hints)
    assert completion.text == "This is a simulated answer."
    assert completion.output_tokens > 0


@pytest.mark.parametrize("hints", [TASK, JUDGE, MUTATION, {}])
async def test_token_counts_are_estimated_from_the_text(hints: dict[str, Any]) -> None:
    completion = await complete(hints, model="default")
    assert completion.input_tokens > 0
    assert completion.output_tokens > 0
    assert completion.input_tokens == sum(estimate_tokens(m.content) for m in MESSAGES)
    assert completion.output_tokens == estimate_tokens(completion.text)
    assert completion.model == "default"


async def test_longer_messages_cost_more_input_tokens() -> None:
    short = CompletionRequest("default", (ChatMessage("user", "hi"),), hints=TASK)
    long = CompletionRequest("default", (ChatMessage("user", "hi " * 100),), hints=TASK)
    provider = SimProvider()
    assert (await provider.complete(long)).input_tokens > (
        await provider.complete(short)
    ).input_tokens


@pytest.mark.parametrize("hints", [TASK, JUDGE, MUTATION])
async def test_equal_requests_get_equal_completions(hints: dict[str, Any]) -> None:
    assert await complete(hints) == await complete(hints)


async def test_the_provider_is_named_sim_and_closes() -> None:
    provider = SimProvider()
    assert provider.name == "sim"
    await provider.close()
