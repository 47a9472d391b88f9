"""One proposal: pick a strategy and parent(s), gather what it learns from, ask the mutation
model, then enforce preserveVariables/preserveStructure and drop duplicates."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from whetstone.domain.config import JobConfig
from whetstone.domain.events import MutationGenerated
from whetstone.domain.prompt import Message, PromptBody
from whetstone.domain.usage import Usage
from whetstone.engine.checks import enforce
from whetstone.engine.evaluation import Evaluator, ItemResult, input_text, prompt_text
from whetstone.engine.llm import LLMGateway
from whetstone.engine.selection import pareto_front, sample_pair, sample_parent
from whetstone.engine.state import Candidate, EngineState, rng_for
from whetstone.engine.strategies import DEFAULT_WEIGHTS, STRATEGIES
from whetstone.engine.strategies.base import Failure, ProposalInput
from whetstone.metrics.base import expected_text


def editable_index(body: PromptBody) -> int:
    """Which message a strategy rewrites: the system message, else the first one."""
    for i, m in enumerate(body.messages or ()):
        if m.role == "system":
            return i
    return 0


def editable_text(body: PromptBody) -> str:
    if body.template is not None:
        return body.template
    return (body.messages or ())[editable_index(body)].content


def with_text(body: PromptBody, text: str) -> PromptBody:
    if body.template is not None:
        return PromptBody(template=text)
    messages = list(body.messages or ())
    i = editable_index(body)
    messages[i] = Message(messages[i].role, text)
    return PromptBody(messages=tuple(messages))


@dataclass
class Proposal:
    event: MutationGenerated
    candidate: Candidate | None  # None: discarded
    minibatch: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Split:
    val: list[int]  # full evaluations and the Pareto front
    train: list[int]  # minibatches


class Proposer:
    def __init__(
        self,
        config: JobConfig,
        llm: LLMGateway,
        evaluator: Evaluator,
        split: Split,
        *,
        allowed_variables: set[str],
        has_expected: bool,
    ) -> None:
        self._cfg = config
        self._llm = llm
        self._evaluator = evaluator
        self._split = split
        self._allowed = allowed_variables
        self._has_expected = has_expected
        params = config.tuning_params
        self._minibatch = max(1, int(params.get("minibatchSize", 8)))
        self._miss_rate = float(params.get("simMissRate", 0.2))
        weights: Mapping[str, float] = params.get("strategyWeights") or {}
        chosen = config.mutation_types or list(STRATEGIES)
        self._weights = {n: float(weights.get(n, DEFAULT_WEIGHTS[n])) for n in chosen}
        self._random_parents = params.get("parentSelection", "pareto") == "random"

    @property
    def seed(self) -> int:
        return int(self._cfg.seed or 0)

    def _choose(self, st: EngineState, front: dict[str, int], rng: random.Random) -> str:
        """A configured type that applies now; ``rephrase`` stands in while none does
        (crossover and history need two scored candidates first)."""
        pool_size = len(st.pool)
        best = st.best
        passing = best is not None and any(
            best.item_scores[str(p)][0] >= 0.999 for p in self._split.val
        )
        applies = {
            "crossover": len(front) >= 2,
            "history": pool_size >= 2,
            "fewshot": self._has_expected and passing,
        }
        names = [n for n in self._weights if applies.get(n, True) and self._weights[n] > 0]
        if not names:
            return "rephrase"
        return rng.choices(names, weights=[self._weights[n] for n in names])[0]

    async def propose(self, st: EngineState, candidate_id: str) -> Proposal:
        rng = rng_for(self.seed, "propose", st.iteration, st.slot)
        pool = {i: st.candidates[i] for i in st.pool}
        front = pareto_front(list(pool.values()), self._split.val)
        name = self._choose(st, front, rng)
        strategy = STRATEGIES[name]
        pair = (
            sample_pair(front, pool, self._split.val, rng) if strategy.parent_count == 2 else None
        )
        if strategy.parent_count == 2 and pair is None:
            name, strategy = "rephrase", STRATEGIES["rephrase"]
        if pair:
            parent_ids = list(pair)
        elif self._random_parents:  # the random-search baseline: no Pareto front
            parent_ids = [rng.choice(sorted(pool))]
        else:
            parent_ids = [sample_parent(front, rng)]
        parents = [st.candidates[i] for i in parent_ids]
        minibatch = rng.sample(self._split.train, min(self._minibatch, len(self._split.train)))
        before = self._llm.usage
        inp = ProposalInput(
            parents=[editable_text(p.prompt) for p in parents],
            strength=self._cfg.mutation_strength,
            nonce=candidate_id,
            seed=self.seed,
            miss_rate=self._miss_rate,
        )
        if "feedback" in strategy.needs:
            inp.failures.extend(await self._failures(parents[0], minibatch, rng))
        if "history" in strategy.needs:
            ranked = sorted(pool.values(), key=lambda c: (c.full_score or 0.0, c.id))[-8:]
            inp.history.extend((editable_text(c.prompt), c.full_score or 0.0) for c in ranked)
        if "examples" in strategy.needs and st.best is not None:
            inp.examples.extend(await self._examples(st.best, rng))
        text = await strategy.propose(inp, self._llm)
        return self._finish(st, candidate_id, name, parents, text, minibatch, before)

    async def _failures(
        self, parent: Candidate, minibatch: list[int], rng: random.Random
    ) -> list[Failure]:
        """Run the parent on the minibatch (its scores are kept for the gate); a minibatch it
        gets all right teaches nothing, so up to two others are tried."""
        results: list[ItemResult] = []
        for attempt in range(3):
            if attempt:
                minibatch[:] = rng.sample(self._split.train, len(minibatch))
            results = await self._evaluator.run(parent.prompt, minibatch)
            for r in results:
                parent.item_scores[str(r.position)] = r.row()
            if any(r.scored.score < 1 for r in results):
                break
        return [
            Failure(
                input=input_text(r.item),
                output=r.output,
                expected=expected_text(r.item.expected_output)
                if r.item.expected_output is not None
                else None,
                score=r.scored.score,
                feedback=r.scored.feedback,
                sim=(r.item.metadata or {}).get("sim"),
            )
            for r in results
        ]

    async def _examples(self, best: Candidate, rng: random.Random) -> list[tuple[str, str]]:
        right = [p for p in self._split.val if best.item_scores[str(p)][0] >= 0.999]
        chosen = sorted(rng.sample(right, min(6, len(right))))
        items = await self._evaluator.items(chosen)
        return [
            (input_text(i), expected_text(i.expected_output))
            for i in items
            if i.expected_output is not None
        ]

    def _finish(
        self,
        st: EngineState,
        candidate_id: str,
        name: str,
        parents: list[Candidate],
        text: str | None,
        minibatch: list[int],
        before: Usage,
    ) -> Proposal:
        parent = parents[0]
        cost = self._llm.usage - before
        parent_ids = [p.id for p in parents]

        def discarded(reason: str, repairs: list[str] | None = None) -> Proposal:
            event = MutationGenerated(
                candidate_id,
                parent_ids,
                name,
                (text or "")[:200],
                None,
                "discarded",
                repairs or [],
                [reason],
                cost,
            )
            return Proposal(event, None)

        if text is None:
            return discarded("the mutation model's reply held no <prompt>…</prompt>")
        checked = enforce(
            editable_text(parent.prompt),
            text,
            allowed_variables=self._allowed,
            preserve_variables=self._cfg.preserve_variables,
            preserve_structure=self._cfg.preserve_structure,
        )
        if checked.text is None:
            return discarded(checked.violations[0], checked.repairs)
        body = with_text(parent.prompt, checked.text)
        twin = next((c.id for c in st.candidates.values() if c.prompt == body), None)
        if twin is not None:
            return discarded(f"the same prompt as {twin}", checked.repairs)
        candidate = Candidate(candidate_id, body.to_wire(), parent_ids, name, st.iteration)
        event = MutationGenerated(
            candidate_id,
            parent_ids,
            name,
            prompt_text(body)[:200],
            body.to_wire(),
            "kept",
            checked.repairs,
            [],
            cost,
        )
        return Proposal(event, candidate, minibatch)
