"""rephrase: rewrites the wording; how far is set by ``mutationStrength``."""

from __future__ import annotations

from whetstone.engine.llm import LLMGateway
from whetstone.engine.strategies.base import ProposalInput, ask


def degree(strength: float) -> str:
    if strength < 0.34:
        return "slightly"
    if strength < 0.67:
        return "noticeably"
    return "substantially"


class RephraseStrategy:
    name = "rephrase"
    parent_count = 1
    needs: frozenset[str] = frozenset()

    async def propose(self, inp: ProposalInput, llm: LLMGateway) -> str | None:
        fields = {"prompt": inp.parents[0], "degree": degree(inp.strength)}
        return await ask(llm, self.name, inp, fields)
