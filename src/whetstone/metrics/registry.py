"""Metric names to implementations. Built-ins are registered like plugins (entry point group
``whetstone.metrics``); unknown names raise an error listing the valid ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from whetstone.domain.config import MetricSpec
from whetstone.metrics.base import Metric, MetricDeps, MetricFactory, MetricParamsError
from whetstone.metrics.geval import GEval
from whetstone.metrics.json_match import JsonMatch
from whetstone.metrics.scoring import Scorer
from whetstone.metrics.semantic import SemanticSimilarity
from whetstone.metrics.text import Contains, ExactMatch, Regex, TokenF1
from whetstone.plugins import with_plugins

BUILTIN: dict[str, MetricFactory] = {
    "exact_match": ExactMatch,
    "contains": Contains,
    "regex": Regex,
    "json_match": JsonMatch,
    "token_f1": TokenF1,
    "semantic_similarity": SemanticSimilarity,
    "g_eval": GEval,
}


def available_metrics() -> dict[str, MetricFactory]:
    """Built-ins plus every installed ``whetstone.metrics`` entry point."""
    return with_plugins("whetstone.metrics", BUILTIN)


def build_scorer(
    specs: Sequence[MetricSpec],
    deps: MetricDeps,
    registry: Mapping[str, MetricFactory] | None = None,
) -> Scorer:
    registry = registry if registry is not None else available_metrics()
    built: list[tuple[str, Metric, float]] = []
    for spec in specs:
        factory = registry.get(spec.name)
        if factory is None:
            raise MetricParamsError(
                f"unknown metric {spec.name!r}; valid: {', '.join(sorted(registry))}"
            )
        key = spec.name
        n = 2
        while key in {k for k, _, _ in built}:
            key, n = f"{spec.name}_{n}", n + 1
        built.append((key, factory(spec.params, deps), spec.weight))
    return Scorer(built)
