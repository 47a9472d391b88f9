"""compress: a shorter prompt with the same behaviour; length breaks ties in selection."""

from __future__ import annotations

from whetstone.engine.llm import LLMGateway
from whetstone.engine.strategies.base import ProposalInput, ask


class CompressStrategy:
    name = "compress"
    parent_count = 1
    needs: frozenset[str] = frozenset()

    async def propose(self, inp: ProposalInput, llm: LLMGateway) -> str | None:
        return await ask(llm, self.name, inp, {"prompt": inp.parents[0]})
