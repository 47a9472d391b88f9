"""Scorer: the weighted mean of a job's metrics for one item, and their feedback."""

from __future__ import annotations

import pytest

from tests.metrics.helpers import NO_DEPS, sample_of
from whetstone.metrics.base import Metric, MetricResult, Sample
from whetstone.metrics.scoring import Scorer
from whetstone.metrics.text import Contains, ExactMatch, TokenF1


class Fixed:
    """A metric with a fixed result (a fake implementing the ``Metric`` protocol)."""

    needs_expected = False

    def __init__(self, score: float, feedback: str = "", name: str = "fixed") -> None:
        self.name = name
        self.result = MetricResult(score, feedback)
        self.seen: list[Sample] = []

    async def score(self, sample: Sample) -> MetricResult:
        self.seen.append(sample)
        return self.result


@pytest.mark.parametrize(
    ("parts", "total"),
    [
        ([(1.0, 1.0)], 1.0),
        ([(0.0, 1.0)], 0.0),
        ([(1.0, 1.0), (0.0, 1.0)], 0.5),
        ([(1.0, 3.0), (0.0, 1.0)], 0.75),
        ([(0.5, 2.0), (1.0, 2.0), (0.0, 4.0)], 0.375),
        ([(0.2, 0.1), (0.8, 0.3)], 0.65),
    ],
)
async def test_the_score_is_the_weighted_mean(
    parts: list[tuple[float, float]], total: float
) -> None:
    metrics: list[tuple[str, Metric, float]] = [
        (f"m{i}", Fixed(score), weight) for i, (score, weight) in enumerate(parts)
    ]
    scored = await Scorer(metrics).score(sample_of("x"))
    assert scored.score == pytest.approx(total)
    assert scored.metrics == {f"m{i}": score for i, (score, _) in enumerate(parts)}


async def test_every_metric_sees_the_same_sample() -> None:
    first, second = Fixed(1.0), Fixed(0.5)
    sample = sample_of("out", "exp")
    await Scorer([("a", first, 1.0), ("b", second, 1.0)]).score(sample)
    assert first.seen == [sample]
    assert second.seen == [sample]


async def test_keys_keep_their_order() -> None:
    scorer = Scorer([("b", Fixed(1.0), 1.0), ("a", Fixed(1.0), 1.0), ("c", Fixed(1.0), 2.0)])
    assert scorer.keys == ["b", "a", "c"]


async def test_all_right_gives_correct_as_feedback() -> None:
    scorer = Scorer([("a", Fixed(1.0, "Fine."), 1.0), ("b", Fixed(1.0, "Good."), 1.0)])
    assert (await scorer.score(sample_of("x"))).feedback == "Correct."


async def test_a_single_metric_s_feedback_is_given_as_is() -> None:
    scorer = Scorer([("exact_match", Fixed(0.0, "Expected 'a'."), 1.0)])
    assert (await scorer.score(sample_of("x"))).feedback == "Expected 'a'."


async def test_feedback_of_several_metrics_is_keyed_and_skips_the_perfect_ones() -> None:
    scorer = Scorer(
        [
            ("exact_match", Fixed(0.0, "Expected 'a'."), 1.0),
            ("contains", Fixed(1.0, "Contains it."), 1.0),
            ("token_f1", Fixed(0.5, "missing words: a"), 1.0),
            ("regex", Fixed(0.0, ""), 1.0),
        ]
    )
    scored = await scorer.score(sample_of("x"))
    assert scored.feedback == "exact_match: Expected 'a'. token_f1: missing words: a"


async def test_wrong_without_feedback_still_says_something() -> None:
    scored = await Scorer([("a", Fixed(0.0), 1.0)]).score(sample_of("x"))
    assert scored.score == 0.0
    assert scored.feedback


async def test_real_metrics_combine() -> None:
    scorer = Scorer(
        [
            ("exact_match", ExactMatch({}, NO_DEPS), 2.0),
            ("contains", Contains({}, NO_DEPS), 1.0),
            ("token_f1", TokenF1({}, NO_DEPS), 1.0),
        ]
    )
    scored = await scorer.score(sample_of("The capital is Paris", "Paris"))
    assert scored.metrics["exact_match"] == 0.0
    assert scored.metrics["contains"] == 1.0
    assert scored.metrics["token_f1"] == pytest.approx(0.4)  # p = 1/4, r = 1
    assert scored.score == pytest.approx((0.0 * 2 + 1.0 + 0.4) / 4)
    assert scored.feedback.startswith("exact_match: Expected 'Paris'")
    assert "token_f1: extra words: the, capital, is" in scored.feedback
    assert "contains:" not in scored.feedback
