"""``OpenAIProvider``: any OpenAI-compatible API (OpenAI, vLLM, Ollama, llama.cpp server,
LM Studio …): ``POST {base_url}/chat/completions`` and ``POST {base_url}/embeddings``.

The base URL includes the version, as ``OPENAI_BASE_URL`` does for the openai SDK
(default ``https://api.openai.com/v1``; Ollama: ``http://localhost:11434/v1``). A key is
required for api.openai.com only; to another server, none means no ``Authorization``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from whetstone.providers.base import Completion, CompletionRequest
from whetstone.providers.config import ProviderEnv
from whetstone.providers.http import HTTPProvider, pluck, token_count

OPENAI = ProviderEnv("openai", "https://api.openai.com/v1", key_optional_elsewhere=True)


class OpenAIProvider(HTTPProvider):
    name = "openai"
    env = OPENAI

    def headers(self, api_key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def complete(self, request: CompletionRequest) -> Completion:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": request.temperature,
        }
        if request.max_tokens is not None:
            body["max_tokens"] = request.max_tokens
        data = await self.http.post_json("/chat/completions", body)
        text = pluck(self.http, data, "choices", 0, "message", "content")
        if not isinstance(text, str):
            raise self.http.malformed("choices[0].message.content is not text")
        usage = data.get("usage")
        return Completion(
            text,
            token_count(self.http, usage, "prompt_tokens"),
            token_count(self.http, usage, "completion_tokens"),
            request.model,
        )

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in the order of ``texts``."""
        if not texts:
            return []
        data = await self.http.post_json("/embeddings", {"model": model, "input": list(texts)})
        rows = pluck(self.http, data, "data")
        if not isinstance(rows, list) or len(rows) != len(texts):
            got = len(rows) if isinstance(rows, list) else type(rows).__name__
            raise self.http.malformed(f"expected {len(texts)} embeddings in data, got {got}")
        vectors: dict[int, list[float]] = {}
        for position, row in enumerate(rows):
            index = row.get("index", position) if isinstance(row, dict) else None
            vector = row.get("embedding") if isinstance(row, dict) else None
            if not isinstance(index, int) or not 0 <= index < len(texts) or index in vectors:
                raise self.http.malformed(f"data[{position}].index is not a new index: {index!r}")
            if not isinstance(vector, list) or not all(_is_number(x) for x in vector):
                raise self.http.malformed(f"data[{position}].embedding is not a list of numbers")
            vectors[index] = [float(x) for x in vector]
        return [vectors[i] for i in range(len(texts))]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
