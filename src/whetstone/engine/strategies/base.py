"""The ``Strategy`` protocol and what every mutation type shares: its versioned meta-prompt,
the call to the mutation model, and reading the new prompt out of the reply."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from string import Template
from typing import Any, Protocol

from whetstone.engine.llm import LLMGateway, Role
from whetstone.providers.base import ChatMessage

META_PROMPT_VERSION = "v1"


@dataclass(frozen=True, slots=True)
class Failure:
    """One minibatch item as the reflective strategy sees it."""

    input: str
    output: str
    expected: str | None
    score: float
    feedback: str
    sim: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ProposalInput:
    parents: list[str]  # the editable text of each parent
    strength: float
    nonce: str  # unique per proposal; varies the simulator's draws
    seed: int
    miss_rate: float = 0.2  # the simulator's chance of misreading feedback
    failures: list[Failure] = field(default_factory=list)
    history: list[tuple[str, float]] = field(default_factory=list)  # worst first
    examples: list[tuple[str, str]] = field(default_factory=list)  # (input, correct output)


class Strategy(Protocol):
    name: str
    parent_count: int
    needs: frozenset[str]  # of "feedback", "history", "examples"

    async def propose(self, inp: ProposalInput, llm: LLMGateway) -> str | None:
        """The new editable text, or None if the model's reply held no prompt."""
        ...


def meta_prompt(name: str) -> Template:
    path = resources.files("whetstone.engine.strategies").joinpath(
        f"templates/{name}.{META_PROMPT_VERSION}.txt"
    )
    return Template(path.read_text())


_ENVELOPE = re.compile(r"<prompt>\s*\n?(.*?)\n?\s*</prompt>", re.S)
_FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.S)


def extract_prompt(reply: str) -> str | None:
    """The last ``<prompt>…</prompt>`` of a reply, else the last fenced block; else None."""
    for pattern in (_ENVELOPE, _FENCE):
        found = pattern.findall(reply)
        if found and found[-1].strip():
            return str(found[-1]).strip()
    return None


async def ask(
    llm: LLMGateway, strategy: str, inp: ProposalInput, fields: Mapping[str, Any]
) -> str | None:
    content = meta_prompt(strategy).substitute(fields)
    hints = {
        "role": "mutation",
        "strategy": strategy,
        "parents": inp.parents,
        "strength": inp.strength,
        "missRate": inp.miss_rate,
        "seed": inp.seed,
        "nonce": inp.nonce,
        "failures": [
            {"expected": f.expected, "output": f.output, "sim": f.sim} for f in inp.failures
        ],
        "history": [{"prompt": p, "score": s} for p, s in inp.history],
        "examples": [{"input": i, "output": o} for i, o in inp.examples],
    }
    reply = await llm.complete(
        Role.MUTATION, [ChatMessage("user", content)], hints=hints, temperature=0.7
    )
    return extract_prompt(reply.text)
