"""json_match: the output parses as JSON and equals the expected value, whole or by fields."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.metrics.helpers import NO_DEPS, sample_of
from whetstone.metrics.base import MetricParamsError
from whetstone.metrics.json_match import JsonMatch

EXPECTED = {"name": "Ada", "age": 36, "address": {"city": "London", "zip": "N1"}}


@pytest.mark.parametrize(
    ("output", "expected", "score"),
    [
        ('{"age": 36, "name": "Ada", "address": {"zip": "N1", "city": "London"}}', EXPECTED, 1.0),
        ('{"name": "Ada", "age": 36}', EXPECTED, 0.0),
        ('{"name": "Ada", "age": "36", "address": {"city": "London", "zip": "N1"}}', EXPECTED, 0.0),
        ("[1, 2]", [1, 2], 1.0),
        ("[2, 1]", [1, 2], 0.0),
        ("3", 3, 1.0),
        ('"yes"', '"yes"', 1.0),
        ('{"a": 1}', '{"a": 1}', 1.0),  # expected given as JSON text
        ('{"a": 1}', '{"a": 2}', 0.0),
        ("null", None, 1.0),
    ],
)
async def test_whole_value(output: str, expected: Any, score: float) -> None:
    result = await JsonMatch({}, NO_DEPS).score(sample_of(output, expected))
    assert result.score == score
    if score == 1.0:
        assert result.feedback == "Correct."
    else:
        assert result.feedback.startswith("Expected ")


@pytest.mark.parametrize("output", ["not json", "{'a': 1}", '{"a": 1', ""])
async def test_output_that_is_not_json_scores_zero(output: str) -> None:
    result = await JsonMatch({}, NO_DEPS).score(sample_of(output, {"a": 1}))
    assert result.score == 0.0
    assert "not valid JSON" in result.feedback


async def test_expected_text_that_is_not_json_scores_zero_and_says_so() -> None:
    result = await JsonMatch({}, NO_DEPS).score(sample_of('{"a": 1}', "Paris"))
    assert result.score == 0.0
    assert "exact_match" in result.feedback


@pytest.mark.parametrize(
    ("fields", "output", "score", "wrong"),
    [
        (["name"], '{"name": "Ada", "age": 99}', 1.0, []),
        (["name", "age"], '{"name": "Ada", "age": 99}', 0.5, ["age"]),
        (["name", "age"], '{"name": "Bob"}', 0.0, ["name", "age"]),
        (["address.city"], '{"address": {"city": "London", "zip": "X"}}', 1.0, []),
        (["address.city", "address.zip"], '{"address": {"city": "London"}}', 0.5, ["address.zip"]),
        (["address.city"], '{"address": "London"}', 0.0, ["address.city"]),
        (["name", "age", "address"], json.dumps(EXPECTED), 1.0, []),
        (["missing"], '{"name": "Ada"}', 0.0, ["missing"]),
        (["name"], "[1, 2]", 0.0, ["name"]),
    ],
)
async def test_fields(fields: list[str], output: str, score: float, wrong: list[str]) -> None:
    result = await JsonMatch({"fields": fields}, NO_DEPS).score(sample_of(output, EXPECTED))
    assert result.score == pytest.approx(score)
    if wrong:
        assert result.feedback == f"Wrong or missing fields: {', '.join(wrong)}."
    else:
        assert result.feedback == "Correct."


async def test_a_field_missing_from_both_sides_is_not_a_match() -> None:
    result = await JsonMatch({"fields": ["nope"]}, NO_DEPS).score(sample_of("{}", {}))
    assert result.score == 0.0


async def test_no_fields_listed_is_vacuously_right() -> None:
    result = await JsonMatch({"fields": []}, NO_DEPS).score(sample_of('{"x": 1}', EXPECTED))
    assert result.score == 1.0


@pytest.mark.parametrize("fields", ["name", [1], ["name", None], {"name": True}])
def test_fields_must_be_a_list_of_paths(fields: Any) -> None:
    with pytest.raises(MetricParamsError, match=r"params\.fields"):
        JsonMatch({"fields": fields}, NO_DEPS)
