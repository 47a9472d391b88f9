"""USD per million tokens, by ``provider/model``. Settings may add or override entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


DEFAULT_PRICES: dict[str, Price] = {
    "openai/gpt-4o-mini": Price(0.15, 0.60),
    "openai/gpt-4o": Price(2.50, 10.00),
    "openai/gpt-4.1": Price(2.00, 8.00),
    "openai/gpt-4.1-mini": Price(0.40, 1.60),
    "openai/gpt-4.1-nano": Price(0.10, 0.40),
    "anthropic/claude-sonnet-4-5": Price(3.00, 15.00),
    "anthropic/claude-haiku-4-5": Price(1.00, 5.00),
    "anthropic/claude-opus-4-1": Price(15.00, 75.00),
    # The simulator bills like a small hosted model so that USD budgets can be tried
    # offline; such costs are simulated, as the results say.
    "sim/default": Price(0.15, 0.60),
}


class PriceTable:
    def __init__(self, overrides: Mapping[str, Price] | None = None) -> None:
        self._prices = {**DEFAULT_PRICES, **(overrides or {})}

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, tuple[float, float]]) -> PriceTable:
        """From ``{model: (input, output)}`` USD per million tokens (the settings' form)."""
        return cls({model: Price(i, o) for model, (i, o) in overrides.items()})

    def entries(self) -> dict[str, Price]:
        return dict(self._prices)

    def price(self, model: str) -> Price | None:
        if model in self._prices:
            return self._prices[model]
        if model.startswith("sim/"):
            return self._prices["sim/default"]
        return None

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float:
        """The cost of a call; 0 for a model with no known price (local models)."""
        price = self.price(model)
        return price.cost(input_tokens, output_tokens) if price else 0.0
