"""fewshot: adds, swaps or drops worked examples taken from items the best gets right."""

from __future__ import annotations

from whetstone.engine.llm import LLMGateway
from whetstone.engine.strategies.base import ProposalInput, ask


class FewShotStrategy:
    name = "fewshot"
    parent_count = 1
    needs = frozenset({"examples"})

    async def propose(self, inp: ProposalInput, llm: LLMGateway) -> str | None:
        if not inp.examples:
            return None
        shown = "\n\n".join(f"Input: {i}\nOutput: {o}" for i, o in inp.examples)
        fields = {
            "prompt": inp.parents[0],
            "examples": shown,
            "count": 1 + round(inp.strength * 2),
        }
        return await ask(llm, self.name, inp, fields)
