"""The response cache around every provider: answers by canonical request.

A request's key is the SHA-256 of the workspace and everything sent to the model
(``provider/model``, messages, temperature, max tokens) in canonical JSON. The same
request, in this job or a later one of the same workspace, is answered from the cache
and not paid again; the job's usage counts it under ``cachedCalls``. Only what a
provider would charge for is cached: the ``sim`` provider is never cached, so dry runs
stay reproducible bit for bit.

A request sent with a temperature above 0 is cached too: asking the same thing twice
returns the first answer (a resumed job then replays what it saw). Turn the cache off
with ``WHETSTONE_RESPONSE_CACHE=false`` to sample afresh.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

import orjson

from whetstone.providers.base import Completion, CompletionRequest


class ResponseCache(Protocol):
    async def get(self, key: str) -> Completion | None: ...

    async def put(
        self, key: str, workspace_id: str, model: str, completion: Completion
    ) -> None: ...


def request_key(workspace_id: str, model: str, request: CompletionRequest) -> str:
    """``model`` is the full ``provider/model`` name; hints never reach a provider and are
    not part of the key."""
    canonical = {
        "workspace": workspace_id,
        "model": model,
        "messages": [[m.role, m.content] for m in request.messages],
        "temperature": request.temperature,
        "maxTokens": request.max_tokens,
    }
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


class MemoryResponseCache:
    """A dict: for tests and for engines run without a store."""

    def __init__(self) -> None:
        self.entries: dict[str, Completion] = {}

    async def get(self, key: str) -> Completion | None:
        return self.entries.get(key)

    async def put(self, key: str, workspace_id: str, model: str, completion: Completion) -> None:
        self.entries.setdefault(key, completion)
