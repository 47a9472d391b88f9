"""Usage: calls, tokens and USD summed across model roles, and its wire form."""

from __future__ import annotations

from functools import reduce
from operator import add
from typing import Any

import pytest

from whetstone.domain.usage import Usage


def test_zero_by_default() -> None:
    assert Usage() == Usage(0, 0, 0, 0.0)
    assert Usage().total_tokens == 0


def test_addition_sums_every_counter() -> None:
    total = Usage(1, 100, 20, 0.5) + Usage(2, 300, 40, 0.25)
    assert total == Usage(llm_calls=3, input_tokens=400, output_tokens=60, cost_usd=0.75)
    assert total.total_tokens == 460


def test_zero_is_the_identity() -> None:
    usage = Usage(4, 10, 5, 0.01)
    assert usage + Usage() == usage
    assert Usage() + usage == usage


def test_addition_does_not_change_the_operands() -> None:
    a, b = Usage(1, 2, 3, 0.1), Usage(4, 5, 6, 0.2)
    _ = a + b
    assert (a, b) == (Usage(1, 2, 3, 0.1), Usage(4, 5, 6, 0.2))


def test_cost_sum_has_no_float_noise() -> None:
    assert (Usage(cost_usd=0.1) + Usage(cost_usd=0.2)).cost_usd == 0.3
    many = reduce(add, [Usage(1, 1, 1, 0.001)] * 1000)
    assert many == Usage(1000, 1000, 1000, 1.0)


def test_addition_is_order_independent() -> None:
    parts = [Usage(1, 10, 2, 0.003), Usage(2, 5, 7, 0.0105), Usage(0, 0, 0, 0.2)]
    assert reduce(add, parts) == reduce(add, reversed(parts))


def test_to_wire_is_camel_case() -> None:
    assert Usage(3, 120, 45, 0.0042).to_wire() == {
        "llmCalls": 3,
        "inputTokens": 120,
        "outputTokens": 45,
        "costUsd": 0.0042,
        "cachedCalls": 0,
        "cachedCostUsd": 0.0,
    }


@pytest.mark.parametrize(
    "usage", [Usage(), Usage(1, 2, 3, 0.5), Usage(10**6, 10**9, 10**9, 1234.56789)]
)
def test_wire_round_trip(usage: Usage) -> None:
    assert Usage.from_wire(usage.to_wire()) == usage


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, Usage()),
        ({}, Usage()),
        ({"llmCalls": 2}, Usage(llm_calls=2)),
        ({"costUsd": 1}, Usage(cost_usd=1.0)),
    ],
)
def test_from_wire_fills_missing_counters_with_zero(
    data: dict[str, Any] | None, expected: Usage
) -> None:
    assert Usage.from_wire(data) == expected
