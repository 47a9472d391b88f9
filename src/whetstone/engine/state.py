"""The optimizer's whole state, as plain JSON, checkpointed after every step.

Randomness is not part of it: every decision draws from an RNG seeded by
(job seed, purpose, iteration, slot), so a resumed run makes the same choices.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from whetstone.domain.prompt import PromptBody


def rng_for(seed: int, *parts: Any) -> random.Random:
    digest = hashlib.sha256(json.dumps([seed, *parts]).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass
class Candidate:
    id: str
    body: dict[str, Any]  # PromptBody wire form
    parents: list[str]
    mutation_type: str | None
    iteration: int
    # item position -> [total score, then one score per metric key]
    item_scores: dict[str, list[float]] = field(default_factory=dict)
    full_score: float | None = None

    @property
    def prompt(self) -> PromptBody:
        return PromptBody.from_wire(self.body)

    def score_on(self, positions: list[int]) -> float:
        return sum(self.item_scores[str(p)][0] for p in positions) / max(1, len(positions))

    def has(self, positions: list[int]) -> bool:
        return all(str(p) in self.item_scores for p in positions)


@dataclass
class Pending:
    """The candidate between its proposal and the end of its evaluation."""

    id: str
    parent: str
    minibatch: list[int]


@dataclass
class EngineState:
    phase: str = "baseline_start"
    iteration: int = 0
    slot: int = 0
    iteration_open: bool = False
    candidates: dict[str, Candidate] = field(default_factory=dict)
    pool: list[str] = field(default_factory=list)  # fully evaluated: the Pareto pool
    best_id: str | None = None
    initial_score: float | None = None
    current_score: float | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    no_gain: int = 0
    improved_this_iteration: bool = False
    iteration_scores: list[float] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    pending: Pending | None = None

    @property
    def best(self) -> Candidate | None:
        return self.candidates[self.best_id] if self.best_id else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EngineState:
        data = dict(data)
        data["candidates"] = {k: Candidate(**v) for k, v in data.get("candidates", {}).items()}
        if data.get("pending") is not None:
            data["pending"] = Pending(**data["pending"])
        return cls(**data)
