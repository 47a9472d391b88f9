"""Mutation strategies: reading the prompt out of a reply, rendering every meta-prompt, and
proposing with the simulator."""

from __future__ import annotations

import re
from dataclasses import replace
from importlib import resources

import pytest

from tests.engine.fakes import FakeProvider
from whetstone.engine.llm import LLMGateway, Role
from whetstone.engine.pricing import PriceTable
from whetstone.engine.strategies import STRATEGIES
from whetstone.engine.strategies.base import Failure, ProposalInput, extract_prompt
from whetstone.providers.base import CompletionRequest, Provider
from whetstone.providers.sim.provider import SimProvider

# --- extract_prompt ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("<prompt>\nAnswer {question}\n</prompt>", "Answer {question}"),
        ("Sure!\n<prompt>first</prompt>\nor better:\n<prompt>\n  second\n</prompt>", "second"),
        ("Here:\n```\nAnswer {question}\n```\n", "Answer {question}"),
        ("```text\none\n```\n```markdown\ntwo\n```", "two"),
        ("```\nfenced\n```\n<prompt>enveloped</prompt>", "enveloped"),
        ("<prompt>\nline one\n\nline two\n</prompt>", "line one\n\nline two"),
    ],
)
def test_extract_prompt_finds_the_prompt(reply: str, expected: str) -> None:
    assert extract_prompt(reply) == expected


@pytest.mark.parametrize(
    "reply",
    ["", "I cannot help with that.", "<prompt>   \n </prompt>", "```\n\n```", "<prompt>open"],
)
def test_extract_prompt_is_none_when_empty_or_absent(reply: str) -> None:
    assert extract_prompt(reply) is None


# --- meta-prompts, rendered through each strategy ----------------------------------------

PARENT = "Answer the arithmetic question. Cost: $5 per {{unit}}.\n\n{question}"
OTHER = "Reply with digits only.\n\n{question}"
FAILURES = [
    Failure("What is 2+2?", "four", "4", 0.0, "Expected '4' but got 'four'."),
    Failure("What is 3+3?", "6.", "6", 0.5, "Drop the trailing period."),
    Failure("What is 5+5?", "10", None, 0.25, "Judge: too terse for the rubric."),
]
HISTORY = [("Just answer.\n\n{question}", 0.25), (PARENT, 0.625)]
EXAMPLES = [("What is 1+1?", "2"), ("What is 7+1?", "8")]


def proposal(name: str) -> ProposalInput:
    parents = [PARENT, OTHER] if STRATEGIES[name].parent_count == 2 else [PARENT]
    return ProposalInput(
        parents=parents,
        strength=0.5,
        nonce=f"cand_{name}",
        seed=11,
        failures=list(FAILURES),
        history=list(HISTORY),
        examples=list(EXAMPLES),
    )


def gateway(mutator: Provider) -> LLMGateway:
    return LLMGateway(
        {mutator.name: mutator},
        dict.fromkeys(Role, f"{mutator.name}/mutator"),
        prices=PriceTable(),
        budget=None,
        concurrency=2,
    )


def recorder() -> FakeProvider:
    return FakeProvider("fake", reply=lambda _r: "Thinking...\n<prompt>NEW {question}</prompt>")


def content(request: CompletionRequest) -> str:
    (message,) = request.messages
    assert message.role == "user"
    return message.content


def test_every_template_belongs_to_a_strategy() -> None:
    folder = resources.files("whetstone.engine.strategies").joinpath("templates")
    names = {p.name.removesuffix(".v1.txt") for p in folder.iterdir() if p.name.endswith(".txt")}
    assert names == set(STRATEGIES)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
async def test_each_strategy_renders_its_meta_prompt_with_the_parent(name: str) -> None:
    provider = recorder()
    result = await STRATEGIES[name].propose(proposal(name), gateway(provider))

    assert result == "NEW {question}"
    (request,) = provider.requests
    text = content(request)
    if name != "history":  # history shows the scored prompts instead of a parent
        assert PARENT in text
    assert not re.search(r"\$[A-Za-z_{]", text.replace("$5", "")), "an unfilled $field"
    assert request.hints["strategy"] == name
    assert request.hints["role"] == "mutation"


async def test_reflective_shows_each_failure_with_its_feedback_worst_first() -> None:
    provider = recorder()
    await STRATEGIES["reflective"].propose(proposal("reflective"), gateway(provider))
    text = content(provider.requests[0])

    for f in FAILURES:
        assert f.input in text
        assert f.output in text
        assert f.feedback in text
    assert "Expected: 4" in text
    assert "Score: 0.00" in text
    assert "Score: 0.50" in text
    order = [text.index(f.input) for f in sorted(FAILURES, key=lambda f: f.score)]
    assert order == sorted(order)
    assert re.search(r"at most 2\s+focused\s+changes", text)  # 1 + round(0.5 * 2)


async def test_history_shows_every_scored_prompt_in_order() -> None:
    provider = recorder()
    await STRATEGIES["history"].propose(proposal("history"), gateway(provider))
    text = content(provider.requests[0])

    assert "Score 0.250" in text
    assert "Score 0.625" in text
    assert text.index("Just answer.") < text.index("Score 0.625") < text.index(PARENT)


async def test_fewshot_shows_the_examples() -> None:
    provider = recorder()
    await STRATEGIES["fewshot"].propose(proposal("fewshot"), gateway(provider))
    text = content(provider.requests[0])

    for i, o in EXAMPLES:
        assert f"Input: {i}\nOutput: {o}" in text
    assert "up to 2 of them" in text


async def test_fewshot_without_examples_asks_nothing() -> None:
    provider = recorder()
    inp = proposal("fewshot")
    inp.examples.clear()
    assert await STRATEGIES["fewshot"].propose(inp, gateway(provider)) is None
    assert provider.requests == []


async def test_crossover_shows_both_parents() -> None:
    provider = recorder()
    await STRATEGIES["crossover"].propose(proposal("crossover"), gateway(provider))
    text = content(provider.requests[0])

    assert PARENT in text
    assert OTHER in text
    assert text.index(PARENT) < text.index(OTHER)


@pytest.mark.parametrize(("strength", "word"), [(0.0, "slightly"), (1.0, "substantially")])
async def test_rephrase_says_how_far_to_go(strength: float, word: str) -> None:
    provider = recorder()
    inp = replace(proposal("rephrase"), strength=strength)
    await STRATEGIES["rephrase"].propose(inp, gateway(provider))
    assert f"Change its wording {word}" in content(provider.requests[0])


async def test_a_reply_without_a_prompt_proposes_nothing() -> None:
    provider = FakeProvider("fake", reply=lambda _r: "I would rather not.")
    assert await STRATEGIES["rephrase"].propose(proposal("rephrase"), gateway(provider)) is None


# --- with the simulator ----------------------------------------------------------------

SIM_PARENT = "Answer the question.\nBe concise.\n\n{question}"


@pytest.mark.parametrize("name", sorted(STRATEGIES))
async def test_with_the_simulator_each_strategy_keeps_the_variable_line(name: str) -> None:
    inp = proposal(name)
    inp.parents[:] = [SIM_PARENT, "Reply in digits.\n\n{question}"][: len(inp.parents)]
    inp.history[:] = [("Reply in digits.\n\n{question}", 0.4), (SIM_PARENT, 0.6)]
    llm = gateway(SimProvider())

    result = await STRATEGIES[name].propose(inp, llm)

    assert result is not None
    assert "{question}" in result.splitlines()
    assert llm.usage.llm_calls == 1
    again = await STRATEGIES[name].propose(inp, gateway(SimProvider()))
    assert again == result  # the simulator is deterministic
