"""crossover: merges two Pareto-front parents that win on different items."""

from __future__ import annotations

from whetstone.engine.llm import LLMGateway
from whetstone.engine.strategies.base import ProposalInput, ask


class CrossoverStrategy:
    name = "crossover"
    parent_count = 2
    needs: frozenset[str] = frozenset()

    async def propose(self, inp: ProposalInput, llm: LLMGateway) -> str | None:
        fields = {"first": inp.parents[0], "second": inp.parents[1]}
        return await ask(llm, self.name, inp, fields)
