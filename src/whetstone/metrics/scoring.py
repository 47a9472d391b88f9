"""Weighted combination of a job's metrics, per item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from whetstone.metrics.base import Metric, Sample


@dataclass(frozen=True, slots=True)
class Scored:
    score: float
    metrics: dict[str, float]
    feedback: str


class Scorer:
    def __init__(self, metrics: Sequence[tuple[str, Metric, float]]) -> None:
        self._metrics = list(metrics)  # (key, metric, weight)
        self._total = sum(w for _, _, w in self._metrics)

    @property
    def keys(self) -> list[str]:
        return [k for k, _, _ in self._metrics]

    async def score(self, sample: Sample) -> Scored:
        per: dict[str, float] = {}
        notes: list[str] = []
        weighted = 0.0
        for key, metric, weight in self._metrics:
            result = await metric.score(sample)
            per[key] = result.score
            weighted += weight * result.score
            if result.feedback and result.score < 1:
                notes.append(
                    f"{key}: {result.feedback}" if len(self._metrics) > 1 else result.feedback
                )
        return Scored(weighted / self._total, per, " ".join(notes) or "Correct.")
