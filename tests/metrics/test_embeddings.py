"""Embedders without a real model: the LRU cache, checking an endpoint's answer, and loading a
model once, on its own thread, while the event loop runs on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from whetstone.errors import ProviderError
from whetstone.metrics.embeddings import (
    CachedEmbedder,
    Encode,
    LocalEmbedder,
    ModelRuntime,
    ProviderEmbedder,
)


class CountingEmbedder:
    """Vectors from text lengths; records every batch it is asked for."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.batches.append(list(texts))
        return [[float(len(t)), 0.1] for t in texts]


async def test_the_cache_keeps_the_most_recently_used_texts() -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, size=2)
    await cached.embed(["a", "bb"])
    await cached.embed(["a"])  # "a" is now the most recent
    await cached.embed(["ccc"])  # evicts "bb"
    await cached.embed(["a", "bb", "ccc"])
    assert inner.batches == [["a", "bb"], ["ccc"], ["bb"]]


async def test_the_cache_keeps_order_and_repeats_and_embeds_a_text_once_per_call() -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner)
    vectors = await cached.embed(["bb", "a", "bb"])
    assert inner.batches == [["bb", "a"]]
    assert [v[0] for v in vectors] == [2.0, 1.0, 2.0]
    assert await cached.embed([]) == []


async def test_cached_and_fresh_vectors_are_the_same_float32_values() -> None:
    cached = CachedEmbedder(CountingEmbedder())
    fresh = await cached.embed(["text"])
    again = await cached.embed(["text"])
    assert fresh == again
    assert fresh[0][1] == pytest.approx(0.1)
    assert fresh[0][1] != 0.1  # rounded to float32, the model's own precision


class Endpoint:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.requests: list[list[str]] = []

    async def __call__(self, texts: Sequence[str]) -> Any:
        self.requests.append(list(texts))
        return self.answer


async def test_the_provider_embedder_passes_texts_and_vectors_through() -> None:
    endpoint = Endpoint([[1.0, 0.0], [0, 1]])
    assert await ProviderEmbedder(endpoint).embed(("a", "b")) == [[1.0, 0.0], [0, 1]]
    assert endpoint.requests == [["a", "b"]]


async def test_the_provider_embedder_asks_nothing_for_no_texts() -> None:
    endpoint = Endpoint([])
    assert await ProviderEmbedder(endpoint).embed([]) == []
    assert endpoint.requests == []


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ([[1.0, 0.0]], "gave 1 vectors for 2 texts"),
        ({"data": []}, "gave dict vectors for 2 texts"),
        ([[1.0, 0.0], [1.0]], "different lengths"),
        ([[1.0, 0.0], []], "empty"),
        ([[1.0, 0.0], ["x", "y"]], "not lists of numbers"),
        ([[1.0, 0.0], [True, False]], "not lists of numbers"),
        ([[1.0, 0.0], "ab"], "not lists of numbers"),
    ],
)
async def test_a_malformed_answer_is_a_provider_error(answer: Any, says: str) -> None:
    with pytest.raises(ProviderError, match=says):
        await ProviderEmbedder(Endpoint(answer)).embed(["a", "b"])


class SlowModel:
    """A model whose loading blocks until the test releases it."""

    def __init__(self, *, fail_first: bool = False) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail_first = fail_first
        self.threads: set[str] = set()
        self.batches: list[list[str]] = []

    def load(self) -> Encode:
        self.started.set()
        assert self.release.wait(10)
        if self.fail_first:
            self.fail_first = False
            raise OSError("model files are missing")

        def encode(texts: list[str]) -> list[list[float]]:
            self.threads.add(threading.current_thread().name)
            self.batches.append(texts)
            return [[float(len(t))] for t in texts]

        return encode


async def test_the_model_loads_once_on_its_own_thread_while_the_loop_runs_on() -> None:
    model = SlowModel()
    runtime = ModelRuntime(model.load, "fake")
    calls = [asyncio.create_task(LocalEmbedder(runtime).embed(["x" * i])) for i in range(1, 6)]
    # The loop is free while the model loads: this wait needs it to run.
    assert await asyncio.wait_for(asyncio.to_thread(model.started.wait, 10), 10)
    assert not any(call.done() for call in calls)
    model.release.set()
    results = await asyncio.wait_for(asyncio.gather(*calls), 10)
    assert results == [[[float(i)]] for i in range(1, 6)]
    assert runtime.loads == 1
    # what was asked for during the load is encoded together (the first may have gone alone)
    assert len(model.batches) <= 2
    assert sorted(t for batch in model.batches for t in batch) == ["x" * i for i in range(1, 6)]
    assert len(model.threads) == 1
    assert next(iter(model.threads)).startswith("whetstone-fake")
    assert threading.current_thread().name not in model.threads


async def test_a_failed_load_is_raised_and_tried_again_on_the_next_call() -> None:
    model = SlowModel(fail_first=True)
    model.release.set()
    embedder = LocalEmbedder(ModelRuntime(model.load))
    with pytest.raises(OSError, match="missing"):
        await embedder.embed(["a"])
    assert await embedder.embed(["abc"]) == [[3.0]]


async def test_a_caller_that_leaves_does_not_stop_the_others() -> None:
    model = SlowModel()
    runtime = ModelRuntime(model.load)
    first = asyncio.create_task(LocalEmbedder(runtime).embed(["a"]))
    assert await asyncio.wait_for(asyncio.to_thread(model.started.wait, 10), 10)
    leaving = asyncio.create_task(LocalEmbedder(runtime).embed(["bb"]))
    staying = asyncio.create_task(LocalEmbedder(runtime).embed(["ccc"]))
    await asyncio.wait({leaving, staying}, timeout=0)  # both have asked
    leaving.cancel()
    await asyncio.wait({leaving})  # the cancellation has reached the runtime
    model.release.set()
    assert await asyncio.wait_for(asyncio.gather(first, staying), 10) == [[[1.0]], [[3.0]]]
    assert leaving.cancelled()
    assert "bb" not in [t for batch in model.batches for t in batch]


async def test_the_local_embedder_asks_nothing_for_no_texts() -> None:
    model = SlowModel()
    runtime = ModelRuntime(model.load)
    assert await LocalEmbedder(runtime).embed([]) == []
    assert runtime.loads == 0
