"""history: proposes a new prompt from the scored history, best last (OPRO-style)."""

from __future__ import annotations

from whetstone.engine.llm import LLMGateway
from whetstone.engine.strategies.base import ProposalInput, ask


class HistoryStrategy:
    name = "history"
    parent_count = 1
    needs = frozenset({"history"})

    async def propose(self, inp: ProposalInput, llm: LLMGateway) -> str | None:
        shown = "\n\n".join(
            f"Score {score:.3f}:\n<prompt>\n{text}\n</prompt>" for text, score in inp.history
        )
        return await ask(llm, self.name, inp, {"history": shown})
