"""The simulated task model and judge: right only when the prompt carries what an item needs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.providers.sim.samples import SHOW_CASES, asking_all
from whetstone.providers.sim.roles import judge_verdict, task_answer
from whetstone.providers.sim.rules import RULES, infer_rules
from whetstone.providers.sim.text import example_block

NOT_SURE = "I am not sure."


def answer(prompt: str, expected: str, sim: dict[str, Any] | None = None, seed: int = 1) -> str:
    return task_answer({"prompt": prompt, "expected": expected, "sim": sim, "seed": seed})


def verdict(prompt: str, expected: str, output: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        judge_verdict({"prompt": prompt, "expected": expected, "output": output})
    )
    return data


@pytest.mark.parametrize(("expected", "rule_id"), SHOW_CASES)
def test_an_item_is_right_when_the_prompt_asks_every_rule(expected: str, rule_id: str) -> None:
    assert answer(asking_all(expected), expected) == expected


@pytest.mark.parametrize(("expected", "rule_id"), SHOW_CASES)
def test_a_missing_rule_bends_the_answer(expected: str, rule_id: str) -> None:
    prompt = asking_all(expected, but=rule_id)
    got = answer(prompt, expected)
    assert got != expected
    assert not RULES[rule_id].shows(got)


@pytest.mark.parametrize(
    ("prompt", "expected", "got"),
    [
        ("{q}", "42", "The result is 42."),
        ("{q}", "Answer: 42", "The result is 42."),
        ("Give only the number as the answer.\n{q}", "Answer: 42", "42"),
        ("Start the reply with 'Answer: '.\n{q}", "Answer: 42", "Answer: The result is 42."),
        (
            "Begin your reply with the label 'Answer: '.\n{q}",
            "Answer: 2024-01-05",
            "Answer: January 5, 2024",
        ),
        ("{q}", '{"a": 1}', "a is 1"),
        ("{q}", "paris", "The answer is Paris."),
    ],
)
def test_the_answer_is_bent_by_violate(prompt: str, expected: str, got: str) -> None:
    assert answer(prompt, expected) == got


def test_a_label_asked_for_survives_a_bent_value() -> None:
    got = answer("Start the reply with 'Answer: '.\n{q}", "Answer: PARIS")
    assert got.startswith("Answer: ")
    assert got != "Answer: PARIS"


def test_missing_uppercase_bends_a_single_letter_answer() -> None:
    # "A" needs uppercase (infer_rules says so); without it the item must not come out right.
    assert infer_rules("A") == ["uppercase", "one_word"]
    assert answer("Answer with a single word.\n{q}", "A") != "A"


def test_a_date_shaped_answer_that_is_no_calendar_date_does_not_crash() -> None:
    assert infer_rules("2023-02-30") == ["iso_date"]
    assert answer("{q}", "2023-02-30") != "2023-02-30"


@pytest.mark.parametrize(
    ("example_output", "expected"),
    [
        ("7", "42"),
        ("Answer: 7", "Answer: 42"),
        ('{"x": 0}', '{"city": "Paris"}'),
        ("1970-01-01", "2024-01-05"),
        ("ROME", "PARIS"),
        ("pear, plum", "apple, banana, cherry"),
    ],
)
def test_a_worked_example_showing_the_rules_gets_the_item_right(
    example_output: str, expected: str
) -> None:
    prompt = f"{example_block('some question', example_output)}\n\nQuestion: {{q}}"
    assert answer(prompt, expected) == expected
    assert answer("Question: {q}", expected) != expected


@pytest.mark.parametrize(
    ("prompt", "expected", "got"),
    [
        # asked for uppercase while the item needs lowercase: shouted even when lowercase is asked
        (
            "Write the answer in uppercase letters.\nUse only lowercase letters.\n"
            "Answer with a single word.\n{q}",
            "paris",
            "PARIS",
        ),
        (
            "Write the answer in lowercase letters.\nAnswer in ALL CAPS (uppercase).\n"
            "Answer with a single word.\n{q}",
            "PARIS",
            "paris",
        ),
        ("Write the answer in lowercase letters.\n{q}", "new york", "new york"),
        ("Write the answer in uppercase letters.\n{q}", "42", "The result is 42."),
    ],
)
def test_conflicting_case_instructions_bend_the_answer(
    prompt: str, expected: str, got: str
) -> None:
    assert answer(prompt, expected) == got


def test_rules_named_by_the_item_replace_inference() -> None:
    assert answer("{q}", "PARIS", {"rules": []}) == "PARIS"
    assert answer("{q}", "Answer: paris", {"rules": ["answer_prefix", "nope"]}) == "paris"
    prompt = "Start the reply with 'Answer: '.\n{q}"
    assert answer(prompt, "Answer: paris", {"rules": ["answer_prefix"]}) == "Answer: paris"


def test_noise_is_deterministic_for_the_same_inputs() -> None:
    sim = {"noise": 0.5}
    first = [answer("{q}", f"The item {i}.", sim, seed=9) for i in range(200)]
    again = [answer("{q}", f"The item {i}.", sim, seed=9) for i in range(200)]
    other = [answer("{q}", f"The item {i}.", sim, seed=10) for i in range(200)]
    assert first == again
    assert first != other
    assert {a for a in first if a != NOT_SURE} <= {f"The item {i}." for i in range(200)}


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.3, 0.7, 1.0])
def test_noise_happens_at_roughly_its_rate(rate: float) -> None:
    n = 2000
    noisy = sum(answer("{q}", f"The item {i}.", {"noise": rate}) == NOT_SURE for i in range(n))
    assert abs(noisy / n - rate) < 0.04


def test_judge_gives_full_marks_to_the_expected_output() -> None:
    assert verdict("{q}", "Answer: 42", "Answer: 42")["score"] == 10


@pytest.mark.parametrize(
    ("prompt", "expected", "missing"),
    [
        ("{q}", "Answer: 42", ["answer_prefix", "number_only"]),
        ("Start the reply with 'Answer: '.\n{q}", "Answer: 42", ["number_only"]),
        ("{q}", "PARIS", ["uppercase", "one_word"]),
        ("Answer with a single word.\n{q}", "PARIS", ["uppercase"]),
        ("{q}", "- a\n- b", ["bullets", "lowercase"]),
        ("{q}", '{"a": 1}', ["json"]),
    ],
)
def test_judge_names_each_missing_rule(prompt: str, expected: str, missing: list[str]) -> None:
    output = answer(prompt, expected)
    data = verdict(prompt, expected, output)
    assert set(data) == {"score", "reason"}
    assert isinstance(data["score"], int)
    assert 0 <= data["score"] < 10
    for rule_id in missing:
        assert RULES[rule_id].missing in data["reason"]
    for rule_id in set(RULES) - set(missing):
        assert RULES[rule_id].missing not in data["reason"]


def test_judge_scores_fewer_missing_rules_higher() -> None:
    expected = "Answer: PARIS"
    none = verdict("{q}", expected, "x")["score"]
    some = verdict("Answer with a single word.\n{q}", expected, "x")["score"]
    most = verdict(asking_all(expected, but="uppercase"), expected, "x")["score"]
    assert none < some < most < 10


def test_judge_calls_a_wrong_answer_with_nothing_missing_wrong() -> None:
    data = verdict(asking_all("42"), "42", "41")
    assert data["score"] < 5
    assert data["reason"]
