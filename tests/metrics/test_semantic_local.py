"""semantic_similarity with the real all-MiniLM-L6-v2 model (skipped without the
``local-embeddings`` extra). The model loads once for the whole module, in about 3 s."""

from __future__ import annotations

import asyncio
import math

import pytest

from tests.metrics.helpers import NO_DEPS, sample_of
from whetstone.metrics.embeddings import (
    LOCAL_DIMENSION,
    MINILM,
    LocalEmbedder,
    local_model_installed,
)
from whetstone.metrics.semantic import SemanticSimilarity, cosine

pytestmark = pytest.mark.skipif(
    not local_model_installed(), reason='needs pip install "whetstone[local-embeddings]"'
)

PARIS = "The capital of France is Paris."
PARAPHRASE = "Paris is France's capital city."
UNRELATED = "I like green apples."
LONG = "x " * 400  # longer than the model's 256 tokens


async def test_vectors_are_384_dimensional_unit_vectors() -> None:
    vectors = await LocalEmbedder().embed([PARIS, UNRELATED, ""])
    assert [len(v) for v in vectors] == [LOCAL_DIMENSION] * 3 == [384] * 3
    for vector in vectors:
        assert math.sqrt(sum(x * x for x in vector)) == pytest.approx(1.0, abs=1e-5)


async def test_the_vectors_are_those_of_sentence_transformers() -> None:
    """Cosine similarities that sentence-transformers 6.2 gives for this model (mean pooling,
    normalised, cut at 256 tokens)."""
    paris, paraphrase, unrelated, long = await LocalEmbedder().embed(
        [PARIS, PARAPHRASE, UNRELATED, LONG]
    )
    assert cosine(paris, paraphrase) == pytest.approx(0.96589, abs=1e-3)
    assert cosine(paris, unrelated) == pytest.approx(-0.10096, abs=1e-3)
    assert cosine(paris, long) == pytest.approx(0.05340, abs=1e-3)


async def test_paraphrases_score_clearly_higher_than_unrelated_sentences() -> None:
    metric = SemanticSimilarity({}, NO_DEPS)
    same = await metric.score(sample_of(PARIS, PARIS))
    paraphrase = await metric.score(sample_of(PARAPHRASE, PARIS))
    unrelated = await metric.score(sample_of(UNRELATED, PARIS))
    assert same.score == pytest.approx(1.0, abs=1e-5)
    assert paraphrase.score > 0.85
    assert unrelated.score < 0.2
    assert "Semantic similarity 0.0" in unrelated.feedback


async def test_a_threshold_makes_a_paraphrase_right() -> None:
    metric = SemanticSimilarity({"backend": "local", "threshold": 0.8}, NO_DEPS)
    assert (await metric.score(sample_of(PARAPHRASE, PARIS))).score == 1.0
    assert (await metric.score(sample_of(UNRELATED, PARIS))).score < 0.2


async def test_the_model_loads_once_for_many_calls_and_embedders() -> None:
    sentences = [f"Short sentence number {i} about topic {i % 7}." for i in range(100)]
    embedders = [LocalEmbedder() for _ in range(4)]
    results = await asyncio.gather(
        *(embedders[i % 4].embed(sentences[i : i + 10]) for i in range(0, 100, 10))
    )
    assert sum(len(r) for r in results) == 100
    assert MINILM.loads == 1
