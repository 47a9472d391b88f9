"""``AnthropicProvider``: the Messages API, ``POST {base_url}/v1/messages``.

The base URL excludes the version, as ``ANTHROPIC_BASE_URL`` does for the anthropic SDK
(default ``https://api.anthropic.com``). System messages become the top-level ``system``
field; ``max_tokens``, which the API requires, defaults to :data:`DEFAULT_MAX_TOKENS`.
"""

from __future__ import annotations

from typing import Any

from whetstone.providers.base import Completion, CompletionRequest
from whetstone.providers.config import ProviderEnv
from whetstone.providers.http import HTTPProvider, pluck, token_count

ANTHROPIC = ProviderEnv("anthropic", "https://api.anthropic.com")
API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024


class AnthropicProvider(HTTPProvider):
    name = "anthropic"
    env = ANTHROPIC

    def headers(self, api_key: str | None) -> dict[str, str]:
        return {"x-api-key": api_key or "", "anthropic-version": API_VERSION}

    async def complete(self, request: CompletionRequest) -> Completion:
        data = await self.http.post_json("/v1/messages", messages_body(request))
        blocks = pluck(self.http, data, "content")
        if not isinstance(blocks, list):
            raise self.http.malformed("content is not a list of blocks")
        texts = []
        for i, block in enumerate(blocks):
            if isinstance(block, dict) and block.get("type") == "text":
                if not isinstance(block.get("text"), str):
                    raise self.http.malformed(f"content[{i}].text is not text")
                texts.append(block["text"])
        usage = data.get("usage")
        return Completion(
            "".join(texts),
            token_count(self.http, usage, "input_tokens"),
            token_count(self.http, usage, "output_tokens"),
            request.model,
        )


def messages_body(request: CompletionRequest) -> dict[str, Any]:
    """The Messages API body of ``request``: system messages joined into ``system``."""
    system = [m.content for m in request.messages if m.role == "system"]
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [
            {"role": m.role, "content": m.content} for m in request.messages if m.role != "system"
        ],
        "max_tokens": request.max_tokens if request.max_tokens is not None else DEFAULT_MAX_TOKENS,
        "temperature": request.temperature,
    }
    if system:
        body["system"] = "\n\n".join(system)
    return body
