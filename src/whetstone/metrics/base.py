"""The ``Metric`` protocol: a score in [0, 1] and feedback text to learn from."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from whetstone.domain.dataset import Item
from whetstone.providers.base import ChatMessage


@dataclass(frozen=True, slots=True)
class MetricResult:
    score: float
    feedback: str = ""


@dataclass(frozen=True, slots=True)
class Sample:
    output: str
    item: Item
    prompt: str  # the prompt text that produced the output (judges and the simulator see it)
    seed: int | None = None

    @property
    def expected(self) -> Any:
        return self.item.expected_output


class Metric(Protocol):
    name: str
    needs_expected: bool

    async def score(self, sample: Sample) -> MetricResult: ...


# A judge model call: messages in, text out (the engine binds it to the judge role).
Judge = Callable[[Sequence[ChatMessage], Mapping[str, Any]], Awaitable[str]]
# An embeddings endpoint: texts in, one vector per text out, in order.
Embed = Callable[[Sequence[str]], Awaitable[list[list[float]]]]
# The server's embeddings endpoints: a ``provider/model`` name and texts in, vectors out.
EmbedWith = Callable[[str, Sequence[str]], Awaitable[list[list[float]]]]


@dataclass(frozen=True, slots=True)
class MetricDeps:
    judge: Judge | None = None
    embed: EmbedWith | None = None


MetricFactory = Callable[[Mapping[str, Any], MetricDeps], Metric]


class MetricParamsError(ValueError):
    """A metric's ``params`` are wrong; the message says which and why."""


def expected_text(expected: Any) -> str:
    """An expected output as the text a model should produce (JSON values as JSON)."""
    return expected if isinstance(expected, str) else json.dumps(expected)


def clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
