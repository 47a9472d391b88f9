"""``OptimizerFactory``: builds a job's engine from its context (the runner's EngineFactory)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, cast

from whetstone.domain.config import MetricSpec
from whetstone.engine.base import JobContext
from whetstone.engine.evaluation import Evaluator
from whetstone.engine.llm import LLMGateway, Role
from whetstone.engine.optimizer import OptimizerEngine
from whetstone.engine.pricing import PriceTable
from whetstone.engine.proposer import Proposer, Split
from whetstone.engine.state import rng_for
from whetstone.errors import ProviderError
from whetstone.metrics.base import MetricDeps
from whetstone.metrics.registry import build_scorer
from whetstone.providers.base import ChatMessage, Provider
from whetstone.providers.cache import ResponseCache
from whetstone.providers.sim.provider import SimProvider

DEFAULT_VAL_SIZE = 100


def make_split(item_count: int, seed: int, val_size: int = DEFAULT_VAL_SIZE) -> Split:
    """Small datasets are used whole for both; larger ones keep a seeded validation sample
    for full evaluations and the Pareto front, and draw minibatches from the rest."""
    everything = list(range(item_count))
    if item_count <= val_size:
        return Split(everything, everything)
    val = sorted(rng_for(seed, "split").sample(everything, val_size))
    chosen = set(val)
    return Split(val, [p for p in everything if p not in chosen])


class ProviderSource(Protocol):
    """Where the factory gets a provider by name (``providers.registry.ProviderPool``); raises
    ``ProviderError`` for a provider that is unknown or not configured."""

    def get(self, name: str) -> Provider: ...


class OptimizerFactory:
    def __init__(
        self,
        *,
        providers: Mapping[str, Provider] | None = None,
        pool: ProviderSource | None = None,
        prices: PriceTable | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        self._providers = dict(providers or {})  # fixed ones first (tests), then the pool
        self._pool = pool
        self._prices = prices or PriceTable()
        self._cache = cache

    def _provider(self, name: str, needed_by: str) -> Provider:
        if name in self._providers:
            return self._providers[name]
        if self._pool is not None:
            return self._pool.get(name)
        raise ProviderError(
            f"{needed_by} needs the {name!r} provider, which this server does not have; "
            f"available: {', '.join(sorted({'sim', *self._providers}))}"
        )

    def __call__(self, ctx: JobContext) -> OptimizerEngine:
        cfg = ctx.config
        models = {
            Role.TASK: str(cfg.task_model),
            Role.MUTATION: str(cfg.mutation_model),
            Role.JUDGE: str(cfg.judge_model),
        }
        latency = float(cfg.tuning_params.get("simLatencyMs", 0)) / 1000
        providers: dict[str, Provider] = {"sim": SimProvider(latency_seconds=latency)}
        providers.update(self._providers)
        for role, model in models.items():  # every role's provider now: fail before any call
            name = model.partition("/")[0]
            if name not in providers:
                providers[name] = self._provider(name, f"the {role.value} model {model!r}")
        llm = LLMGateway(
            providers,
            models,
            prices=self._prices,
            budget=cfg.budget,
            concurrency=cfg.concurrency,
            cache=self._cache,
            cache_scope=ctx.job.workspace_id if ctx.job is not None else "",
        )

        async def judge(messages: Sequence[ChatMessage], hints: Mapping[str, Any]) -> str:
            return (await llm.complete(Role.JUDGE, messages, hints=hints)).text

        async def embed(model: str, texts: Sequence[str]) -> list[list[float]]:
            name, _, model_name = model.partition("/")
            provider = self._provider(name, f"the embeddings model {model!r}")
            endpoint = getattr(provider, "embed", None)
            if endpoint is None:
                raise ProviderError(f"the {name!r} provider has no embeddings endpoint")
            return cast(list[list[float]], await endpoint(model_name, texts))

        scorer = build_scorer(
            cfg.evaluation_metrics or [MetricSpec(name="exact_match")],
            MetricDeps(judge=judge, embed=embed),
        )
        seed = int(cfg.seed or 0)
        val_size = max(1, int(cfg.tuning_params.get("valSize", DEFAULT_VAL_SIZE)))
        split = make_split(ctx.dataset.item_count, seed, val_size)
        evaluator = Evaluator(llm, scorer, ctx.items, seed)
        proposer = Proposer(
            cfg,
            llm,
            evaluator,
            split,
            allowed_variables=set(ctx.prompt.variables),
            has_expected=ctx.has_expected_outputs,
        )
        return OptimizerEngine(ctx, llm, evaluator, proposer, scorer.keys, split.val)
