"""Running a prompt over items with the task model and scoring each output."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from whetstone.domain.dataset import Item
from whetstone.domain.prompt import PromptBody
from whetstone.domain.templates import render
from whetstone.engine.base import ItemSource
from whetstone.engine.llm import BudgetExhausted, LLMGateway, Role
from whetstone.errors import InvalidRequest
from whetstone.metrics.base import Sample, expected_text
from whetstone.metrics.scoring import Scored, Scorer
from whetstone.providers.base import ChatMessage


@dataclass(frozen=True, slots=True)
class ItemResult:
    position: int
    item: Item
    output: str
    scored: Scored

    def row(self) -> list[float]:
        """[total, then each metric]: how a candidate stores its per-item scores."""
        return [self.scored.score, *self.scored.metrics.values()]


def prompt_text(body: PromptBody) -> str:
    return "\n\n".join(body.texts())


def input_text(item: Item) -> str:
    values = item.input
    if len(values) == 1:
        return str(next(iter(values.values())))
    return "; ".join(f"{k}: {v}" for k, v in values.items())


def render_messages(body: PromptBody, values: dict[str, Any]) -> list[ChatMessage]:
    try:
        if body.template is not None:
            return [ChatMessage("user", render(body.template, values))]
        return [ChatMessage(m.role, render(m.content, values)) for m in body.messages or ()]
    except KeyError as exc:
        raise InvalidRequest(f"an item's input has no value for the variable {exc}") from exc


class Evaluator:
    def __init__(self, llm: LLMGateway, scorer: Scorer, items: ItemSource, seed: int) -> None:
        self._llm = llm
        self._scorer = scorer
        self._items = items
        self._seed = seed

    async def items(self, positions: list[int]) -> list[Item]:
        return await self._items.at(positions)

    async def run(self, body: PromptBody, positions: list[int]) -> list[ItemResult]:
        """Every position, concurrently (bounded by the gateway). All calls finish before a
        budget stop is raised, so what they cost is counted."""
        if not positions:
            return []
        items = await self._items.at(positions)
        outcomes = await asyncio.gather(
            *(self._one(body, p, item) for p, item in zip(positions, items, strict=True)),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BudgetExhausted):
                raise outcome
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return [o for o in outcomes if isinstance(o, ItemResult)]

    async def _one(self, body: PromptBody, position: int, item: Item) -> ItemResult:
        text = prompt_text(body)
        expected = item.expected_output
        hints = {
            "role": "task",
            "prompt": text,
            "expected": expected_text(expected) if expected is not None else "",
            "sim": (item.metadata or {}).get("sim"),
            "seed": self._seed,
        }
        completion = await self._llm.complete(
            Role.TASK, render_messages(body, item.input), hints=hints
        )
        scored = await self._scorer.score(Sample(completion.text, item, text, self._seed))
        return ItemResult(position, item, completion.text, scored)
