"""``SimProvider``: the deterministic simulator behind ``dryRun`` and ``sim/…`` models.

It answers from the request's ``hints`` (the item's hidden truth, the strategy's
inputs), which only the simulator reads. Token counts are estimated (4
characters a token) so budgets and the cost table can be exercised offline.
"""

from __future__ import annotations

import asyncio

from whetstone.providers.base import Completion, CompletionRequest
from whetstone.providers.sim.roles import judge_verdict, mutation, task_answer


def estimate_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


class SimProvider:
    name = "sim"

    def __init__(self, *, latency_seconds: float = 0.0) -> None:
        self._latency = latency_seconds

    async def complete(self, request: CompletionRequest) -> Completion:
        role = request.hints.get("role")
        if role == "task":
            text = task_answer(request.hints)
        elif role == "judge":
            text = judge_verdict(request.hints)
        elif role == "mutation":
            text = mutation(request.hints)
        else:
            text = "This is a simulated answer."
        if self._latency:
            await asyncio.sleep(self._latency)
        prompt_tokens = sum(estimate_tokens(m.content) for m in request.messages)
        return Completion(text, prompt_tokens, estimate_tokens(text), request.model)

    async def close(self) -> None:
        return None
