"""Token, call and cost accounting, summed across every model role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Usage:
    """``llm_calls``, tokens and ``cost_usd`` count paid calls only; calls answered from the
    response cache count in ``cached_calls``, with what they would have cost in
    ``cached_cost_usd`` (the saving)."""

    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cached_calls: int = 0
    cached_cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.llm_calls + other.llm_calls,
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            round(self.cost_usd + other.cost_usd, 10),
            self.cached_calls + other.cached_calls,
            round(self.cached_cost_usd + other.cached_cost_usd, 10),
        )

    def __sub__(self, other: Usage) -> Usage:
        """What was spent between two readings of the counters."""
        return Usage(
            self.llm_calls - other.llm_calls,
            self.input_tokens - other.input_tokens,
            self.output_tokens - other.output_tokens,
            round(self.cost_usd - other.cost_usd, 10),
            self.cached_calls - other.cached_calls,
            round(self.cached_cost_usd - other.cached_cost_usd, 10),
        )

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_wire(self) -> dict[str, Any]:
        return {
            "llmCalls": self.llm_calls,
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "costUsd": self.cost_usd,
            "cachedCalls": self.cached_calls,
            "cachedCostUsd": self.cached_cost_usd,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any] | None) -> Usage:
        data = data or {}
        return cls(
            llm_calls=int(data.get("llmCalls", 0)),
            input_tokens=int(data.get("inputTokens", 0)),
            output_tokens=int(data.get("outputTokens", 0)),
            cost_usd=float(data.get("costUsd", 0.0)),
            cached_calls=int(data.get("cachedCalls", 0)),
            cached_cost_usd=float(data.get("cachedCostUsd", 0.0)),
        )
