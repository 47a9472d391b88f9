"""``OptimizerFactory``: builds a job's engine from its context (the runner's EngineFactory)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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


class OptimizerFactory:
    def __init__(
        self,
        *,
        providers: Mapping[str, Provider] | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self._providers = dict(providers or {})
        self._prices = prices or PriceTable()

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
        for role, model in models.items():
            name = model.partition("/")[0]
            if name not in providers:
                raise ProviderError(
                    f"the {role.value} model {model!r} needs the {name!r} provider, which this "
                    f"server does not have; available: {', '.join(sorted(providers))}"
                )
        llm = LLMGateway(
            providers,
            models,
            prices=self._prices,
            budget=cfg.budget,
            concurrency=cfg.concurrency,
        )

        async def judge(messages: Sequence[ChatMessage], hints: Mapping[str, Any]) -> str:
            return (await llm.complete(Role.JUDGE, messages, hints=hints)).text

        scorer = build_scorer(
            cfg.evaluation_metrics or [MetricSpec(name="exact_match")], MetricDeps(judge=judge)
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
