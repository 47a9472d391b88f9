"""``OptimizerEngine``: the optimization loop, one small step at a time.

baseline_start → baseline_eval → (propose → minibatch → [full]) for each of candidatesPerIteration
→ iteration_end → propose … Each step returns its events and the whole state;
the runner checkpoints both in one transaction, so a pause, a restart or a crash
resumes exactly where the last step ended.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from whetstone.domain.events import (
    EvaluationComplete,
    EvaluationStart,
    EventPayload,
    IterationComplete,
    IterationStart,
    NewBest,
    PendingEvent,
)
from whetstone.domain.job import Progress
from whetstone.domain.results import HistoryEntry, RunSummary
from whetstone.domain.status import StopReason
from whetstone.domain.usage import Usage
from whetstone.engine.base import JobContext, StepResult
from whetstone.engine.evaluation import Evaluator, ItemResult
from whetstone.engine.llm import BudgetExhausted, LLMGateway
from whetstone.engine.proposer import Proposer
from whetstone.engine.state import Candidate, EngineState, Pending
from whetstone.engine.stopping import after_iteration, before_step

Phase = Callable[[EngineState], Awaitable[StopReason | None]]


def _mean_metrics(rows: list[list[float]], keys: list[str]) -> dict[str, float]:
    if not rows:
        return {}
    return {k: sum(r[i + 1] for r in rows) / len(rows) for i, k in enumerate(keys)}


class OptimizerEngine:
    def __init__(
        self,
        ctx: JobContext,
        llm: LLMGateway,
        evaluator: Evaluator,
        proposer: Proposer,
        metric_keys: list[str],
        val: list[int],
    ) -> None:
        self._ctx = ctx
        self._cfg = ctx.config
        self._llm = llm
        self._evaluator = evaluator
        self._proposer = proposer
        self._keys = metric_keys
        self._val = val
        self._events: list[PendingEvent] = []
        self._gate = bool(self._cfg.tuning_params.get("gate", True))
        self._phases: dict[str, Phase] = {
            "baseline_start": self._baseline_start,
            "baseline_eval": self._baseline_eval,
            "propose": self._propose,
            "minibatch": self._minibatch,
            "full": self._full,
            "iteration_end": self._iteration_end,
        }

    @property
    def llm(self) -> LLMGateway:
        return self._llm

    @property
    def usage(self) -> Usage:
        """Spent so far across every role, the current step included."""
        return self._llm.usage

    def initial_state(self) -> dict[str, Any]:
        return EngineState(usage=Usage().to_wire()).to_json()

    def _emit(self, payload: EventPayload, iteration: int) -> None:
        now = self._ctx.clock.now()
        self._events.append(PendingEvent.of(payload, iteration=iteration, timestamp=now))

    async def step(self, raw: dict[str, Any]) -> StepResult:
        st = EngineState.from_json(raw)
        self._llm.reset_usage(Usage.from_wire(st.usage))
        self._step_usage = self._llm.usage
        self._events = []
        try:
            stop = before_step(self._cfg, self._ctx.elapsed_ms(), self._llm.exhausted())
            if stop is None:
                stop = await self._phases[st.phase](st)
        except BudgetExhausted:
            stop = StopReason.BUDGET
        if stop is not None:
            if stop in (StopReason.TIMEOUT, StopReason.BUDGET):
                self._abort(st, stop.value)
            self._close_iteration(st)
        st.usage = self._llm.usage.to_wire()
        return StepResult(self._events, st.to_json(), self._summary(st), self._progress(st), stop)

    # -- phases -------------------------------------------------------------------------

    async def _baseline_start(self, st: EngineState) -> StopReason | None:
        body = self._ctx.prompt.body
        st.candidates["baseline"] = Candidate("baseline", body.to_wire(), [], None, 0)
        self._emit(EvaluationStart(0, "baseline", len(self._val), "baseline"), 0)
        st.phase = "baseline_eval"
        return None

    async def _baseline_eval(self, st: EngineState) -> StopReason | None:
        base = st.candidates["baseline"]
        before = self._llm.usage
        results = await self._evaluator.run(base.prompt, self._val)
        self._record(base, results)
        score = base.full_score = base.score_on(self._val)
        st.pool, st.best_id = ["baseline"], "baseline"
        st.initial_score = st.current_score = score
        self._emit(self._complete(0, base, results, before, "baseline"), 0)
        st.history.append(HistoryEntry(0, score, [score]).to_wire())
        target = self._cfg.target_score
        if target is not None and score >= target:
            return StopReason.TARGET_SCORE
        st.phase, st.slot = "propose", 0
        return None

    async def _propose(self, st: EngineState) -> StopReason | None:
        if st.slot == 0:
            # The iteration number moves only when an iteration really starts, so a stop
            # between iterations reports the last one that ran.
            st.iteration += 1
            self._emit(IterationStart(st.iteration, self._ctx.clock.now()), st.iteration)
            st.iteration_open, st.improved_this_iteration, st.iteration_scores = True, False, []
        candidate_id = f"cand-{st.iteration}-{st.slot + 1}"
        proposal = await self._proposer.propose(st, candidate_id)
        self._emit(proposal.event, st.iteration)
        if proposal.candidate is None:
            self._next_slot(st)
            return None
        st.candidates[candidate_id] = proposal.candidate
        st.pending = Pending(candidate_id, proposal.candidate.parents[0], proposal.minibatch)
        self._emit(
            EvaluationStart(st.iteration, candidate_id, len(proposal.minibatch), "minibatch"),
            st.iteration,
        )
        st.phase = "minibatch"
        return None

    async def _minibatch(self, st: EngineState) -> StopReason | None:
        assert st.pending is not None
        cand, parent = st.candidates[st.pending.id], st.candidates[st.pending.parent]
        batch = st.pending.minibatch
        before = self._llm.usage
        results = await self._evaluator.run(cand.prompt, batch)
        self._record(cand, results)
        missing = [p for p in batch if str(p) not in parent.item_scores]
        self._record(parent, await self._evaluator.run(parent.prompt, missing))
        score, parent_score = cand.score_on(batch), parent.score_on(batch)
        # Gate: strictly better than the parent on the same items; a compression only has
        # to be no worse (its gain is length). tuningParams.gate=false promotes everything.
        promoted = (
            not self._gate
            or score > parent_score
            or (cand.mutation_type == "compress" and score >= parent_score)
        )
        st.current_score = score
        event = self._complete(st.iteration, cand, results, before, "minibatch")
        self._emit(replace(event, promoted=promoted, parent_score=parent_score), st.iteration)
        if not promoted:
            st.iteration_scores.append(score)
            self._next_slot(st)
            return None
        self._emit(EvaluationStart(st.iteration, cand.id, len(self._val), "full"), st.iteration)
        st.phase = "full"
        return None

    async def _full(self, st: EngineState) -> StopReason | None:
        assert st.pending is not None
        cand = st.candidates[st.pending.id]
        before = self._llm.usage
        todo = [p for p in self._val if str(p) not in cand.item_scores]
        self._record(cand, await self._evaluator.run(cand.prompt, todo))
        score = cand.full_score = cand.score_on(self._val)
        st.pool.append(cand.id)
        st.current_score = score
        st.iteration_scores.append(score)
        rows = [cand.item_scores[str(p)] for p in self._val]
        self._emit(
            EvaluationComplete(
                st.iteration,
                cand.id,
                score,
                _mean_metrics(rows, self._keys),
                self._llm.usage - before,
                "full",
                len(self._val),
            ),
            st.iteration,
        )
        best = st.best
        previous = best.full_score if best else None
        if previous is None or (score > previous and score - previous >= self._cfg.min_improvement):
            gain = None if previous is None else score - previous
            self._emit(NewBest(cand.id, score, previous, gain, cand.body), st.iteration)
            st.best_id, st.improved_this_iteration = cand.id, True
        self._next_slot(st)
        return None

    async def _iteration_end(self, st: EngineState) -> StopReason | None:
        self._close_iteration(st)
        st.phase, st.slot = "propose", 0
        return after_iteration(self._cfg, st)

    # -- helpers ------------------------------------------------------------------------

    def _next_slot(self, st: EngineState) -> None:
        st.pending = None
        st.slot += 1
        st.phase = "propose" if st.slot < self._cfg.candidates_per_iteration else "iteration_end"

    def _close_iteration(self, st: EngineState) -> None:
        if not st.iteration_open:
            return
        st.iteration_open = False
        st.no_gain = 0 if st.improved_this_iteration else st.no_gain + 1
        best = st.best
        best_score = best.full_score if best else None
        self._emit(
            IterationComplete(
                st.iteration,
                best_score,
                self._llm.usage,
                list(st.iteration_scores),
                st.best_id,
            ),
            st.iteration,
        )
        st.history.append(
            HistoryEntry(st.iteration, best_score, list(st.iteration_scores)).to_wire()
        )

    def _abort(self, st: EngineState, why: str) -> None:
        """A stop while an evaluation is open: close it (score null, what it spent, why);
        a cut-short candidate is dropped."""
        if st.phase == "baseline_eval":
            open_id, phase = "baseline", "baseline"
        elif st.pending is not None and st.phase in ("minibatch", "full"):
            open_id, phase = st.pending.id, st.phase
        else:
            return
        spent = self._llm.usage - self._step_usage
        self._emit(
            EvaluationComplete(st.iteration, open_id, None, {}, spent, phase, aborted=why),
            st.iteration,
        )
        st.pending = None

    def _record(self, cand: Candidate, results: list[ItemResult]) -> None:
        for r in results:
            cand.item_scores[str(r.position)] = r.row()

    def _complete(
        self, iteration: int, cand: Candidate, results: list[ItemResult], before: Usage, phase: str
    ) -> EvaluationComplete:
        rows = [r.row() for r in results]
        score = cand.score_on([r.position for r in results]) if results else None
        return EvaluationComplete(
            iteration,
            cand.id,
            score,
            _mean_metrics(rows, self._keys),
            self._llm.usage - before,
            phase,
            len(results),
        )

    def _summary(self, st: EngineState) -> RunSummary:
        best = st.best
        return RunSummary(
            best_prompt=best.prompt if best else self._ctx.prompt.body,
            iterations=max(0, len(st.history) - 1),  # history holds the baseline first
            history=tuple(
                HistoryEntry(h["iteration"], h["bestScore"], h["scores"]) for h in st.history
            ),
        )

    def _progress(self, st: EngineState) -> Progress:
        best = st.best
        return Progress(
            st.iteration,
            st.initial_score,
            st.current_score,
            best.full_score if best else None,
            self._llm.usage,
        )
