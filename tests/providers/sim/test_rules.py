"""The simulator's hidden requirements: which rules an output shows, and which a prompt carries."""

from __future__ import annotations

import pytest

from tests.providers.sim.samples import SHOW_CASES, SHOWS
from whetstone.providers.sim.rules import CONFLICTS, FILLER, RULES, infer_rules, satisfied
from whetstone.providers.sim.text import example_block

ALL_INSTRUCTIONS: list[tuple[str, str]] = [
    (rule.id, line) for rule in RULES.values() for line in rule.instructions
]


def test_rules_are_keyed_by_their_id_and_name_what_is_missing() -> None:
    assert set(RULES) == set(SHOWS)
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule.instructions, rule_id
        assert rule.missing.endswith("."), rule_id


@pytest.mark.parametrize(("rule_id", "line"), ALL_INSTRUCTIONS)
def test_each_instruction_asks_for_its_rule_and_no_other(rule_id: str, line: str) -> None:
    asked = [r.id for r in RULES.values() if r.asked_by(line)]
    assert asked == [rule_id]


@pytest.mark.parametrize("line", FILLER)
def test_filler_asks_for_nothing(line: str) -> None:
    assert [r.id for r in RULES.values() if r.asked_by(line)] == []
    assert satisfied(RULES, line) == set()


def test_asked_by_is_case_insensitive() -> None:
    assert RULES["json"].asked_by("reply in Json")
    assert RULES["uppercase"].asked_by("use UPPER-CASE")
    assert not RULES["json"].asked_by("jsonify the answer")  # a word, not a substring


@pytest.mark.parametrize(
    ("expected", "rules"),
    [
        ('{"city": "Paris"}', ["json"]),
        ("[1, 2]", ["json"]),
        ("Answer: 42", ["answer_prefix", "number_only"]),
        ("Answer: PARIS", ["answer_prefix", "uppercase", "one_word"]),
        ("42", ["number_only"]),
        ("-3.5", ["number_only"]),
        ("2024-01-05", ["iso_date"]),
        ("- a\n- b", ["bullets", "lowercase"]),
        ("apple, banana, cherry", ["alphabetical", "lowercase"]),
        ("PARIS", ["uppercase", "one_word"]),
        ("paris", ["lowercase", "one_word"]),
        ("Paris", ["one_word"]),
        ("hello world", ["lowercase"]),
        ("The cat sat.", []),
        ("banana, Apple", []),
        ("", []),
    ],
)
def test_infer_rules_reads_what_an_expected_output_shows(expected: str, rules: list[str]) -> None:
    assert infer_rules(expected) == rules


@pytest.mark.parametrize(("expected", "rule_id"), SHOW_CASES)
def test_every_sample_shows_its_rule(expected: str, rule_id: str) -> None:
    assert RULES[rule_id].shows(expected)
    assert rule_id in infer_rules(expected)


@pytest.mark.parametrize(("rule_id", "line"), ALL_INSTRUCTIONS)
def test_an_instruction_in_the_prompt_satisfies_its_rule(rule_id: str, line: str) -> None:
    prompt = f"{line}\n\nQuestion: {{question}}"
    assert satisfied([rule_id], prompt) == {rule_id}
    assert satisfied([rule_id], "Question: {question}") == set()


@pytest.mark.parametrize(("expected", "rule_id"), SHOW_CASES)
def test_a_worked_example_showing_the_rule_satisfies_it(expected: str, rule_id: str) -> None:
    prompt = f"{example_block('some input', expected)}\n\nQuestion: {{question}}"
    assert rule_id in satisfied([rule_id], prompt)


@pytest.mark.parametrize(
    ("rule_id", "output"),
    [
        ("number_only", "The result is 42."),
        ("uppercase", "Paris"),
        ("lowercase", "PARIS"),
        ("json", "city is Paris"),
        ("iso_date", "January 5, 2024"),
        ("bullets", "a, b"),
        ("one_word", "The answer is Paris."),
    ],
)
def test_an_example_that_does_not_show_the_rule_does_not_satisfy_it(
    rule_id: str, output: str
) -> None:
    prompt = f"{example_block('x', output)}\n\nQuestion: {{question}}"
    assert satisfied([rule_id], prompt) == set()


def test_satisfied_only_answers_for_the_rules_asked_about() -> None:
    prompt = "Respond with a JSON object only.\nWrite the answer in uppercase letters.\n{q}"
    assert satisfied(["json", "number_only"], prompt) == {"json"}
    assert satisfied([], prompt) == set()


@pytest.mark.parametrize(("expected", "rule_id"), SHOW_CASES)
def test_violate_breaks_an_output_that_follows_the_rule(expected: str, rule_id: str) -> None:
    bent = RULES[rule_id].violate(expected)
    assert bent != expected
    assert not RULES[rule_id].shows(bent)


def test_iso_date_violation_writes_the_date_out() -> None:
    assert RULES["iso_date"].violate("2024-01-05") == "January 5, 2024"


def test_json_violation_writes_the_value_as_prose() -> None:
    assert RULES["json"].violate('{"city": "Paris", "n": 2}') == "city is Paris; n is 2"
    assert RULES["json"].violate("[1, 2]") == "1, 2"


def test_case_rules_conflict_with_each_other() -> None:
    assert CONFLICTS["uppercase"][0] == "lowercase"
    assert CONFLICTS["lowercase"][0] == "uppercase"
    assert CONFLICTS["uppercase"][1]("Paris") == "PARIS"
    assert CONFLICTS["lowercase"][1]("Paris") == "paris"
