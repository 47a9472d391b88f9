"""reflective: rewrites the prompt to fix the failures a minibatch shows (GEPA-style)."""

from __future__ import annotations

from whetstone.engine.llm import LLMGateway
from whetstone.engine.strategies.base import Failure, ProposalInput, ask


def _describe(f: Failure) -> str:
    expected = f"\nExpected: {f.expected}" if f.expected is not None else ""
    return (
        f"- Input: {f.input}\n  Output: {f.output}{expected}\n"
        f"  Score: {f.score:.2f}\n  Feedback: {f.feedback}"
    )


class ReflectiveStrategy:
    name = "reflective"
    parent_count = 1
    needs = frozenset({"feedback"})

    async def propose(self, inp: ProposalInput, llm: LLMGateway) -> str | None:
        worst_first = sorted(inp.failures, key=lambda f: f.score)
        fields = {
            "prompt": inp.parents[0],
            "failures": "\n".join(_describe(f) for f in worst_first),
            "changes": 1 + round(inp.strength * 2),
        }
        return await ask(llm, self.name, inp, fields)
