"""The simulated mutator: one ``<prompt>`` per strategy, deterministic, tail left alone."""

from __future__ import annotations

from typing import Any

import pytest

from whetstone.providers.sim.roles import mutation
from whetstone.providers.sim.rules import FILLER, RULES, satisfied
from whetstone.providers.sim.text import PromptText, example_block

STRATEGIES = ["reflective", "history", "rephrase", "fewshot", "crossover", "compress"]
TAIL = "Question: {question}\n\nContext: {context}\nThank you."
PARENT = f"Be helpful and precise.\nAnswer the question.\n\n{example_block('1+1', '2')}\n\n{TAIL}"
SECOND = (
    f"Sort the items alphabetically.\nAnswer the question.\n\n"
    f"{example_block('b, a', 'a, b')}\n\n{TAIL}"
)
POOL = [("2+2", "4"), ("3+3", "6"), ("capital of Italy", "Rome")]


def hints(strategy: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "role": "mutation",
        "strategy": strategy,
        "seed": 7,
        "nonce": "cand-1",
        "parents": [PARENT, SECOND],
        "strength": 0.5,
        "missRate": 0.3,
        "failures": [
            {"expected": "42", "output": "x", "sim": None},
            {"expected": "PARIS", "output": "x", "sim": None},
        ],
        "history": [
            {"prompt": f"Use only lowercase letters.\n\n{TAIL}", "score": 0.4},
            {"prompt": PARENT, "score": 0.9},
            {"prompt": f"Give only the number as the answer.\n\n{TAIL}", "score": 0.6},
        ],
        "examples": [{"input": i, "output": o} for i, o in POOL],
    }
    return base | over


def inner(reply: str) -> str:
    assert reply.startswith("<prompt>\n"), reply
    assert reply.endswith("\n</prompt>"), reply
    body = reply.removeprefix("<prompt>\n").removesuffix("\n</prompt>")
    assert "<prompt>" not in body
    assert "</prompt>" not in body
    return body


def propose(strategy: str, **over: Any) -> PromptText:
    return PromptText.parse(inner(mutation(hints(strategy, **over))))


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("nonce", [f"n{i}" for i in range(8)])
def test_every_strategy_answers_a_prompt_with_the_tail_intact(strategy: str, nonce: str) -> None:
    body = inner(mutation(hints(strategy, nonce=nonce)))
    assert body.endswith(f"\n\n{TAIL}")
    assert body.count("{question}") == 1
    assert body.count("{context}") == 1


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_equal_hints_give_equal_prompts(strategy: str) -> None:
    assert mutation(hints(strategy)) == mutation(hints(strategy))


@pytest.mark.parametrize("strategy", ["reflective", "history", "rephrase", "fewshot", "compress"])
def test_the_nonce_varies_the_prompt(strategy: str) -> None:
    replies = {mutation(hints(strategy, nonce=f"n{i}")) for i in range(20)}
    assert len(replies) > 1


@pytest.mark.parametrize("strategy", ["reflective", "rephrase", "fewshot"])
def test_the_seed_varies_the_prompt(strategy: str) -> None:
    replies = {mutation(hints(strategy, seed=s)) for s in range(20)}
    assert len(replies) > 1


@pytest.mark.parametrize("nonce", [f"n{i}" for i in range(10)])
def test_reflective_asks_for_the_most_common_missing_rule(nonce: str) -> None:
    parent = f"Answer the question.\n\n{TAIL}"
    failures = [
        {"expected": "42", "output": "x", "sim": None},
        {"expected": "-7", "output": "x", "sim": None},
        {"expected": "PARIS", "output": "x", "sim": None},  # uppercase, one_word: once each
    ]
    text = propose(
        "reflective", parents=[parent], failures=failures, missRate=0.0, strength=0.0, nonce=nonce
    )
    added = text.instructions[1:]
    assert text.instructions[0] == "Answer the question."
    assert len(added) == 1
    assert added[0] in RULES["number_only"].instructions
    assert satisfied(["number_only"], text.render()) == {"number_only"}


def test_reflective_learns_rules_from_the_items_own_sim_hints() -> None:
    parent = f"Answer the question.\n\n{TAIL}"
    failures = [{"expected": "whatever", "output": "x", "sim": {"rules": ["json"]}}] * 2
    text = propose("reflective", parents=[parent], failures=failures, missRate=0.0, strength=0.0)
    assert text.instructions[1] in RULES["json"].instructions


def test_reflective_without_failures_still_adds_an_instruction() -> None:
    parent = f"Answer the question.\n\n{TAIL}"
    text = propose("reflective", parents=[parent], failures=[], missRate=0.0)
    assert len(text.instructions) == 2
    assert any(text.instructions[1] in r.instructions for r in RULES.values())


def test_reflective_that_always_misreads_sometimes_misses_the_rule() -> None:
    parent = f"Answer the question.\n\n{TAIL}"
    failures = [{"expected": "42", "output": "x", "sim": None}]
    texts = [
        propose("reflective", parents=[parent], failures=failures, missRate=1.0, nonce=f"n{i}")
        for i in range(20)
    ]
    assert all(len(t.instructions) >= 2 for t in texts)
    assert any(not satisfied(["number_only"], t.render()) for t in texts)


@pytest.mark.parametrize(("strength", "count"), [(0.0, 1), (0.5, 2), (1.0, 3)])
def test_fewshot_adds_example_blocks_from_passing_items(strength: float, count: int) -> None:
    parent = f"Answer the question.\n\n{TAIL}"
    text = propose("fewshot", parents=[parent], strength=strength)
    pool = [example_block(i, o) for i, o in POOL]
    assert len(text.examples) == count
    assert len(set(text.examples)) == count
    assert set(text.examples) <= set(pool)
    assert text.instructions == ["Answer the question."]


@pytest.mark.parametrize("nonce", [f"n{i}" for i in range(10)])
def test_fewshot_only_moves_known_examples(nonce: str) -> None:
    text = propose("fewshot", nonce=nonce)
    allowed = {example_block(i, o) for i, o in POOL} | set(PromptText.parse(PARENT).examples)
    assert text.examples
    assert set(text.examples) <= allowed
    assert text.instructions == PromptText.parse(PARENT).instructions


def test_fewshot_without_examples_keeps_the_parent() -> None:
    assert inner(mutation(hints("fewshot", examples=[]))) == PromptText.parse(PARENT).render()


def test_crossover_unions_instructions_and_examples() -> None:
    text = propose("crossover")
    assert text.instructions == [
        "Be helpful and precise.",
        "Answer the question.",
        "Sort the items alphabetically.",
    ]
    assert text.examples == [example_block("1+1", "2"), example_block("b, a", "a, b")]


def test_compress_removes_filler_and_duplicate_rule_instructions() -> None:
    parent = (
        "Be accurate and careful.\n"
        "Give only the number as the answer.\n"
        "Double-check the answer.\n"
        "Reply with just the number, no words.\n"
        "Respond with a JSON object only.\n"
        "Answer the question.\n\n"
        f"{example_block('1+1', '2')}\n\n{example_block('2+2', '4')}\n\n{TAIL}"
    )
    text = propose("compress", parents=[parent], missRate=0.0)
    assert text.instructions == [
        "Give only the number as the answer.",
        "Respond with a JSON object only.",
        "Answer the question.",
    ]
    assert not set(text.instructions) & set(FILLER)
    assert text.examples == [example_block("1+1", "2")]
    assert len(text.render()) < len(PromptText.parse(parent).render())


def test_compress_keeps_every_rule_the_parent_asked_for() -> None:
    parent = (
        f"Be helpful and precise.\nSort the items alphabetically.\nAnswer in ALL CAPS.\n\n{TAIL}"
    )
    before = satisfied(RULES, parent)
    after = satisfied(RULES, propose("compress", parents=[parent], missRate=0.0).render())
    assert before == after == {"alphabetical", "uppercase"}


def test_history_builds_on_the_best_scored_prompt() -> None:
    text = propose("history")
    best = PromptText.parse(PARENT)
    assert text.instructions[: len(best.instructions)] == best.instructions
    assert "Give only the number as the answer." in text.instructions
    assert text.examples == best.examples


@pytest.mark.parametrize("nonce", [f"n{i}" for i in range(10)])
def test_rephrase_at_strength_zero_keeps_every_instruction(nonce: str) -> None:
    text = propose("rephrase", strength=0.0, nonce=nonce)
    parent = PromptText.parse(PARENT)
    assert text.instructions[: len(parent.instructions)] == parent.instructions
    assert len(text.instructions) <= len(parent.instructions) + 1
    assert text.examples == parent.examples


def test_rephrase_rewords_rule_instructions_within_their_rule() -> None:
    parent = f"Sort the items alphabetically.\nGive only the number as the answer.\n\n{TAIL}"
    for i in range(20):
        text = propose("rephrase", parents=[parent], strength=1.0, nonce=f"n{i}")
        for line in text.instructions:
            assert any(r.asked_by(line) for r in RULES.values()) or line in FILLER, line
