"""PriceTable: USD per million tokens by ``provider/model``, with overrides."""

from __future__ import annotations

import pytest

from whetstone.engine.pricing import DEFAULT_PRICES, Price, PriceTable


def test_known_model_is_billed_per_million_tokens() -> None:
    # gpt-4o: $2.50 in, $10.00 out per million tokens
    assert PriceTable().cost("openai/gpt-4o", 2_000_000, 500_000) == pytest.approx(10.0)


def test_sim_models_are_billed_like_gpt_4o_mini() -> None:
    table = PriceTable()
    mini = table.cost("openai/gpt-4o-mini", 123_456, 7_890)
    assert mini > 0
    assert table.cost("sim/default", 123_456, 7_890) == pytest.approx(mini)
    assert table.cost("sim/anything-else", 123_456, 7_890) == pytest.approx(mini)


def test_unknown_model_has_no_price_and_costs_nothing() -> None:
    table = PriceTable()
    assert table.price("local/llama3") is None
    assert table.cost("local/llama3", 10**6, 10**6) == 0.0


def test_overrides_add_and_replace_entries() -> None:
    table = PriceTable({"local/llama3": Price(1.0, 2.0), "openai/gpt-4o-mini": Price(0.5, 0.5)})
    assert table.cost("local/llama3", 10**6, 10**6) == pytest.approx(3.0)
    assert table.cost("openai/gpt-4o-mini", 10**6, 10**6) == pytest.approx(1.0)
    assert table.cost("openai/gpt-4o", 10**6, 0) == pytest.approx(2.5)  # others untouched


def test_overriding_sim_default_reprices_every_sim_model() -> None:
    table = PriceTable({"sim/default": Price(10.0, 0.0)})
    assert table.cost("sim/other", 10**6, 0) == pytest.approx(10.0)


def test_overrides_do_not_leak_into_the_defaults() -> None:
    PriceTable({"openai/gpt-4o-mini": Price(99.0, 99.0)})
    assert DEFAULT_PRICES["openai/gpt-4o-mini"] == Price(0.15, 0.60)
    assert PriceTable().price("openai/gpt-4o-mini") == Price(0.15, 0.60)
