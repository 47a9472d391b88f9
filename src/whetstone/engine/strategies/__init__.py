"""Mutation types, one module each; ``STRATEGIES`` maps ``mutationType`` names to them."""

from __future__ import annotations

from whetstone.engine.strategies.base import Strategy
from whetstone.engine.strategies.compress import CompressStrategy
from whetstone.engine.strategies.crossover import CrossoverStrategy
from whetstone.engine.strategies.fewshot import FewShotStrategy
from whetstone.engine.strategies.history import HistoryStrategy
from whetstone.engine.strategies.reflective import ReflectiveStrategy
from whetstone.engine.strategies.rephrase import RephraseStrategy

STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        ReflectiveStrategy(),
        HistoryStrategy(),
        FewShotStrategy(),
        RephraseStrategy(),
        CrossoverStrategy(),
        CompressStrategy(),
    )
}

# How often each is drawn in the default mix (``mutationTypes`` unset), among those that
# apply; ``tuningParams.strategyWeights`` overrides.
DEFAULT_WEIGHTS: dict[str, float] = {
    "reflective": 4.0,
    "history": 1.0,
    "fewshot": 1.5,
    "rephrase": 0.5,
    "crossover": 1.5,
    "compress": 0.5,
}

__all__ = ["DEFAULT_WEIGHTS", "STRATEGIES", "Strategy"]
