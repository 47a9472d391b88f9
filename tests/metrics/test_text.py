"""exact_match, contains, regex and token_f1."""

from __future__ import annotations

from typing import Any

import pytest

from tests.metrics.helpers import NO_DEPS, sample_of
from whetstone.metrics.base import MetricParamsError
from whetstone.metrics.text import Contains, ExactMatch, Regex, TokenF1


@pytest.mark.parametrize(
    ("params", "output", "expected", "score"),
    [
        ({}, "Paris", "Paris", 1.0),
        ({}, "  Paris \n", "Paris", 1.0),
        ({}, "paris", "Paris", 0.0),
        ({"caseSensitive": False}, "PARIS", "Paris", 1.0),
        ({"caseSensitive": True}, "PARIS", "Paris", 0.0),
        ({}, "New   York\ncity", "New York city", 1.0),
        ({"collapseWhitespace": False}, "New   York", "New York", 0.0),
        ({"collapseWhitespace": False}, " New York ", "New York", 1.0),
        ({}, "Paris.", "Paris", 0.0),
        ({}, "", "Paris", 0.0),
    ],
)
async def test_exact_match_text(
    params: dict[str, Any], output: str, expected: str, score: float
) -> None:
    result = await ExactMatch(params, NO_DEPS).score(sample_of(output, expected))
    assert result.score == score
    assert result.feedback


@pytest.mark.parametrize(
    ("output", "expected", "score"),
    [
        ('{"b": 2, "a": 1}', {"a": 1, "b": 2}, 1.0),
        ('{"a":1,"b":2}', {"a": 1, "b": 2}, 1.0),
        ('{"a": 1}', {"a": 1, "b": 2}, 0.0),
        ("[1, 2, 3]", [1, 2, 3], 1.0),
        ("[3, 2, 1]", [1, 2, 3], 0.0),
        (" 4 ", 4, 1.0),
        ("4.0", 4, 1.0),
        ("5", 4, 0.0),
        ("true", True, 1.0),
        ("not json", {"a": 1}, 0.0),
    ],
)
async def test_exact_match_compares_json_expected_values_as_json(
    output: str, expected: Any, score: float
) -> None:
    result = await ExactMatch({}, NO_DEPS).score(sample_of(output, expected))
    assert result.score == score


async def test_exact_match_feedback_says_what_was_expected() -> None:
    result = await ExactMatch({}, NO_DEPS).score(sample_of("Lyon", "Paris"))
    assert result.score == 0.0
    assert "'Paris'" in result.feedback
    assert "'Lyon'" in result.feedback


async def test_exact_match_clips_long_feedback() -> None:
    result = await ExactMatch({}, NO_DEPS).score(sample_of("y" * 5000, "x" * 5000))
    assert len(result.feedback) < 600


@pytest.mark.parametrize(
    ("params", "output", "expected", "score"),
    [
        ({}, "The capital is Paris.", "Paris", 1.0),
        ({}, "The capital is PARIS.", "paris", 1.0),
        ({"caseSensitive": True}, "The capital is PARIS.", "paris", 0.0),
        ({}, "The capital is Lyon.", "Paris", 0.0),
        ({"value": "capital"}, "The capital is Lyon.", "Paris", 1.0),
        ({"value": "Rome"}, "The capital is Paris.", "Paris", 0.0),
        ({"value": "ok"}, "It is OK", None, 1.0),
        ({}, 'got {"a": 1} here', {"a": 1}, 1.0),
        ({"value": 42}, "the answer is 42", None, 1.0),
    ],
)
async def test_contains(params: dict[str, Any], output: str, expected: Any, score: float) -> None:
    result = await Contains(params, NO_DEPS).score(sample_of(output, expected))
    assert result.score == score
    assert result.feedback


async def test_contains_with_nothing_to_look_for_scores_zero_and_says_why() -> None:
    result = await Contains({}, NO_DEPS).score(sample_of("anything", None))
    assert result.score == 0.0
    assert "params.value" in result.feedback


async def test_contains_feedback_names_the_missing_text() -> None:
    result = await Contains({"value": "Rome"}, NO_DEPS).score(sample_of("Paris"))
    assert "'Rome'" in result.feedback


@pytest.mark.parametrize(
    ("params", "output", "score"),
    [
        ({"pattern": r"\d+"}, "The answer is 42.", 1.0),
        ({"pattern": r"\d+", "fullMatch": True}, "The answer is 42.", 0.0),
        ({"pattern": r"\d+", "fullMatch": True}, "  42\n", 1.0),
        ({"pattern": r"^Answer: "}, "Answer: yes", 1.0),
        ({"pattern": r"^Answer: "}, "answer: yes", 0.0),
        ({"pattern": r"^Answer: ", "caseSensitive": False}, "answer: yes", 1.0),
        ({"pattern": r"yes|no", "fullMatch": True}, "yes", 1.0),
        ({"pattern": r"yes|no", "fullMatch": True}, "maybe", 0.0),
        ({"pattern": ""}, "anything", 1.0),
    ],
)
async def test_regex(params: dict[str, Any], output: str, score: float) -> None:
    result = await Regex(params, NO_DEPS).score(sample_of(output))
    assert result.score == score


async def test_regex_feedback_names_the_pattern() -> None:
    result = await Regex({"pattern": r"^\d+$"}, NO_DEPS).score(sample_of("no digits"))
    assert result.score == 0.0
    assert r"'^\\d+$'" in result.feedback


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "params.pattern"),
        ({"pattern": None}, "params.pattern"),
        ({"pattern": 5}, "params.pattern"),
        ({"pattern": ["a"]}, "params.pattern"),
        ({"pattern": "("}, "does not compile"),
        ({"pattern": "[a-"}, "does not compile"),
        ({"pattern": "a{2,1}"}, "does not compile"),
    ],
)
def test_regex_rejects_bad_params(params: dict[str, Any], message: str) -> None:
    with pytest.raises(MetricParamsError, match=message):
        Regex(params, NO_DEPS)


def test_a_bad_pattern_error_is_a_value_error_chained_to_re_error() -> None:
    with pytest.raises(ValueError, match="does not compile") as info:
        Regex({"pattern": "("}, NO_DEPS)
    assert info.value.__cause__ is not None


@pytest.mark.parametrize(
    ("output", "expected", "score"),
    [
        ("the cat sat", "the cat sat", 1.0),
        ("The CAT, sat!", "the cat sat", 1.0),
        ("the cat", "the cat sat", 0.8),  # p = 1, r = 2/3
        ("the cat sat on the mat", "the cat sat", 2 * 0.5 * 1 / 1.5),  # p = 1/2, r = 1
        ("a b c d", "a b x y", 0.5),  # p = r = 1/2
        ("the the the", "the cat", 0.4),  # common = 1: p = 1/3, r = 1/2
        ("dog", "the cat sat", 0.0),
        ("", "", 1.0),
        ("...", "!!", 1.0),
        ("", "the cat", 0.0),
        ("the cat", "", 0.0),
    ],
)
async def test_token_f1(output: str, expected: str, score: float) -> None:
    result = await TokenF1({}, NO_DEPS).score(sample_of(output, expected))
    assert result.score == pytest.approx(score)


async def test_token_f1_feedback_lists_missing_and_extra_words() -> None:
    result = await TokenF1({}, NO_DEPS).score(sample_of("the dog sat", "the cat sat"))
    assert result.score == pytest.approx(2 / 3)
    assert "missing words: cat" in result.feedback
    assert "extra words: dog" in result.feedback


async def test_token_f1_reads_json_expected_values_as_text() -> None:
    result = await TokenF1({}, NO_DEPS).score(sample_of('{"a": 1}', {"a": 1}))
    assert result.score == 1.0


@pytest.mark.parametrize("metric", [ExactMatch, Contains, TokenF1])
async def test_a_right_answer_scores_one_and_a_wrong_one_zero(metric: Any) -> None:
    right = await metric({}, NO_DEPS).score(sample_of("Paris", "Paris"))
    wrong = await metric({}, NO_DEPS).score(sample_of("Lyon", "Paris"))
    assert (right.score, wrong.score) == (1.0, 0.0)
