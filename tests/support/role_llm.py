"""A responder for the fake LLM server that plays each role of a real job, so that the real
engine runs whole jobs against it over HTTP.

- The **task** model answers the dataset's questions; it answers with the bare expected
  output only when the prompt carries :data:`RULE`, else in a sentence (which
  ``exact_match`` scores 0).
- The **mutation** model puts :data:`RULE` in front of the prompt it is given and replies
  between ``<prompt>`` and ``</prompt>``, as every strategy's meta-prompt asks.
- The **judge** (``g_eval``) gives 10 when the response is the reference answer, else 2.

It records each answer. Every request the engine sends is one user message, so the fake
bills ``words(request)`` input and ``words(answer)`` output tokens for it, in both protocols:
:class:`Answered` holds those counts (:func:`assert_one_user_message` checks the premise).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.fake_llm import FakeLLM, words

QUESTIONS = {"2+2": "4", "capital of France": "Paris", "largest planet": "Jupiter"}
ITEMS = [{"input": {"question": q}, "expectedOutput": a} for q, a in QUESTIONS.items()]
TEMPLATE = "Answer the question: {question}"
RULE = "Reply with the answer only."

_JUDGE = "You are a strict evaluator."  # how the g_eval.v1 meta-prompt starts
_PARENT = re.compile(r"<prompt>\n(.*?)\n</prompt>", re.S)  # a strategy's parent prompt
_REFERENCE = re.compile(r"REFERENCE ANSWER:\n(.*?)\n", re.S)
_RESPONSE = re.compile(r"RESPONSE:\n(.*?)\n\nGive a score", re.S)


def role_of(request: str) -> str:
    if request.startswith(_JUDGE):
        return "judge"
    if _PARENT.search(request):
        return "mutation"
    return "task"


def _task(request: str) -> str:
    answer = next((a for q, a in QUESTIONS.items() if request.endswith(q)), None)
    if answer is None:
        return "I do not know."
    return answer if RULE in request else f"I believe the answer is {answer}."


def _mutation(request: str) -> str:
    parent = _PARENT.findall(request)[0]
    return f"<prompt>\n{RULE} {parent}\n</prompt>"


def _judge(request: str) -> str:
    reference, response = _REFERENCE.search(request), _RESPONSE.search(request)
    if reference and response and reference.group(1).strip() == response.group(1).strip():
        return '{"score": 10, "reason": "It is the reference answer."}'
    return '{"score": 2, "reason": "It is not the bare answer."}'


_ROLES = {"task": _task, "mutation": _mutation, "judge": _judge}


@dataclass(frozen=True)
class Answered:
    role: str
    request: str
    text: str

    @property
    def input_tokens(self) -> int:
        return words(self.request)

    @property
    def output_tokens(self) -> int:
        return words(self.text)

    def cost(self, price: tuple[float, float]) -> float:
        """USD at ``price`` = (input, output) USD per million tokens."""
        return (self.input_tokens * price[0] + self.output_tokens * price[1]) / 1e6


@dataclass
class RoleResponder:
    """The fake's ``responder``: answers as the request's role would, and records it."""

    answered: list[Answered] = field(default_factory=list)

    def __call__(self, request: str) -> str:
        role = role_of(request)
        text = _ROLES[role](request)
        self.answered.append(Answered(role, request, text))
        return text

    def tokens(self) -> tuple[int, int]:
        """Input and output tokens the fake billed, over every answer."""
        return (
            sum(a.input_tokens for a in self.answered),
            sum(a.output_tokens for a in self.answered),
        )

    def cost(self, models: Mapping[str, str], prices: Mapping[str, tuple[float, float]]) -> float:
        """USD of every answer, ``models`` naming each role's model and ``prices`` theirs."""
        return sum(a.cost(prices[models[a.role]]) for a in self.answered)


def request_text(body: Any) -> str:
    """The one user message of a recorded request body."""
    [message] = body["messages"]
    return str(message["content"])


def assert_one_user_message(fake: FakeLLM) -> None:
    """Every request the fake saw is one user message and no system prompt: then what it
    bills is what :class:`Answered` counts."""
    for sent in fake.requests:
        assert [m["role"] for m in sent.body["messages"]] == ["user"], sent.body
        assert "system" not in sent.body, sent.body
