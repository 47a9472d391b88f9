"""``LLMGateway``: every model call of a job goes through here.

It routes each role (task, mutation, judge) to its ``provider/model``, bounds
the calls in flight (``concurrency``), counts usage across every role, and
enforces the budget: a call is refused once a cap is reached, so a budget is
never exceeded by more than the calls already in flight (and ``maxLlmCalls``
never at all, since a call reserves its place before it starts).

Calls to a paid provider go through the response cache first (``providers/cache.py``):
an answer found there is free, counted under ``cachedCalls``, and takes no budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from whetstone.domain.config import Budget
from whetstone.domain.usage import Usage
from whetstone.engine.pricing import PriceTable
from whetstone.errors import ProviderError
from whetstone.providers.base import ChatMessage, Completion, CompletionRequest, Provider
from whetstone.providers.cache import ResponseCache, request_key


class Role(StrEnum):
    TASK = "task"
    MUTATION = "mutation"
    JUDGE = "judge"


class BudgetExhausted(Exception):
    """A budget cap is reached; the job stops with ``stopReason: budget``."""


class LLMGateway:
    def __init__(
        self,
        providers: Mapping[str, Provider],
        models: Mapping[Role, str],
        *,
        prices: PriceTable,
        budget: Budget | None,
        concurrency: int,
        usage: Usage | None = None,
        cache: ResponseCache | None = None,
        cache_scope: str = "",
    ) -> None:
        self._providers = providers
        self._cache = cache
        self._failure: ProviderError | None = None  # once a call failed, no more go out
        self._cache_scope = cache_scope  # the workspace: answers are never shared across
        self._models = dict(models)
        self._prices = prices
        self._budget = budget
        self._semaphore = asyncio.Semaphore(concurrency)
        self._usage = usage or Usage()
        self._started = self._usage.llm_calls
        self.in_flight = 0
        self.peak_in_flight = 0
        self.busy_seconds = 0.0  # summed call durations: achieved concurrency = busy / wall

    @property
    def usage(self) -> Usage:
        return self._usage

    def reset_usage(self, usage: Usage) -> None:
        """Continue counting from a checkpoint's usage (calls in flight are none between steps)."""
        self._usage = usage
        self._started = usage.llm_calls

    def _refuse(self, cap: str | None) -> None:
        """Raise if this call may not go out: a budget cap is reached, or an earlier call
        failed the job."""
        if cap is not None:
            raise BudgetExhausted(f"budget {cap} reached")
        if self._failure is not None:
            raise ProviderError(f"not sent after an earlier call failed: {self._failure}")

    def model(self, role: Role) -> str:
        return self._models[role]

    def exhausted(self) -> str | None:
        """Which cap is reached, if any."""
        b = self._budget
        if b is not None and b.max_llm_calls is not None and self._started >= b.max_llm_calls:
            return "maxLlmCalls"
        return self._spent()

    def _spent(self) -> str | None:
        """Which of the usage caps (tokens, USD) is reached: these are known only after calls."""
        b = self._budget
        if b is None:
            return None
        if b.max_tokens is not None and self._usage.total_tokens >= b.max_tokens:
            return "maxTokens"
        if b.max_cost_usd is not None and self._usage.cost_usd >= b.max_cost_usd:
            return "maxCostUsd"
        return None

    async def complete(
        self,
        role: Role,
        messages: Sequence[ChatMessage],
        *,
        hints: Mapping[str, Any] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> Completion:
        self._refuse(self.exhausted())
        full = self._models[role]
        provider_name, _, model = full.partition("/")
        provider = self._providers[provider_name]
        request = CompletionRequest(
            model, tuple(messages), temperature, max_tokens, dict(hints or {})
        )
        key = None
        if self._cache is not None and provider_name != "sim":
            key = request_key(self._cache_scope, full, request)
            cached = await self._cache.get(key)
            if cached is not None:
                saved = self._prices.cost(full, cached.input_tokens, cached.output_tokens)
                self._usage = self._usage + Usage(cached_calls=1, cached_cost_usd=saved)
                return cached
            self._refuse(self.exhausted())  # again: others may have reserved meanwhile
        self._started += 1  # reserved with no await since the check: maxLlmCalls is exact
        async with self._semaphore:
            # Checked again once a slot is free: calls queued behind the slots must not go
            # out after the cap was reached meanwhile.
            try:
                self._refuse(self._spent())
            except (BudgetExhausted, ProviderError):
                self._started -= 1  # the reservation is given back
                raise
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            started = time.perf_counter()
            try:
                completion = await provider.complete(request)
            except ProviderError as exc:
                # Retries are the provider's; what reaches here fails the job, so the
                # calls still queued are not sent (the ones in flight finish and count).
                self._failure = self._failure or exc
                raise
            finally:
                self.in_flight -= 1
                self.busy_seconds += time.perf_counter() - started
        cost = self._prices.cost(full, completion.input_tokens, completion.output_tokens)
        self._usage = self._usage + Usage(
            1, completion.input_tokens, completion.output_tokens, cost
        )
        if key is not None and self._cache is not None:
            await self._cache.put(key, self._cache_scope, full, completion)
        return completion
