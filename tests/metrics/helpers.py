"""Samples for the metric tests."""

from __future__ import annotations

from typing import Any

from whetstone.domain.dataset import Item
from whetstone.metrics.base import MetricDeps, Sample

NO_DEPS = MetricDeps()


def sample_of(
    output: str,
    expected: Any = None,
    *,
    prompt: str = "Answer the question: {question}",
    metadata: dict[str, Any] | None = None,
    seed: int | None = None,
) -> Sample:
    """A ``Sample`` of one item whose expected output is ``expected``."""
    item = Item("item-1", "ds-1", 0, {"question": "q"}, expected, metadata)
    return Sample(output, item, prompt, seed)
