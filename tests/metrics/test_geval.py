"""g_eval: reading a judge's verdict, and asking an (injected) judge with the rubric."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from tests.metrics.helpers import sample_of
from whetstone.metrics.base import MetricDeps, MetricParamsError
from whetstone.metrics.geval import ASPECTS, GEval, parse_verdict
from whetstone.providers.base import ChatMessage, CompletionRequest
from whetstone.providers.sim.provider import SimProvider


class FakeJudge:
    """The judge model at the protocol's outer boundary: records what it is asked."""

    def __init__(self, reply: str = '{"score": 8, "reason": "Mostly right."}') -> None:
        self.reply = reply
        self.calls: list[tuple[list[ChatMessage], dict[str, Any]]] = []

    async def __call__(self, messages: Sequence[ChatMessage], hints: Mapping[str, Any]) -> str:
        self.calls.append((list(messages), dict(hints)))
        return self.reply

    @property
    def content(self) -> str:
        (messages, _), *_ = self.calls
        assert len(messages) == 1
        return messages[0].content


@pytest.mark.parametrize(
    ("reply", "score", "reason"),
    [
        ('{"score": 7, "reason": "Too long."}', 0.7, "Too long."),
        ('{"score": 10, "reason": "Perfect."}', 1.0, "Perfect."),
        ('{"score": 0, "reason": "Wrong."}', 0.0, "Wrong."),
        ('{"score": 0.85, "reason": "Good."}', 0.85, "Good."),
        ('{"score": 7.5}', 0.75, ""),
        ('{"reason": "  Padded.  ", "score": 4}', 0.4, "Padded."),
        (
            'Sure! Here is my verdict:\n{"score": 6, "reason": "Misses a case."}\nHope it helps.',
            0.6,
            "Misses a case.",
        ),
        ('```json\n{\n  "score": 9,\n  "reason": "Nearly."\n}\n```', 0.9, "Nearly."),
        ('Thinking {not json} then {"score": 3, "reason": "Weak."}', 0.3, "Weak."),
        ('{"score": 15, "reason": "Over."}', 1.0, "Over."),
        ('{"score": -2, "reason": "Under."}', 0.0, "Under."),
        ('{"score": 1, "reason": "Barely addresses the task."}', 0.1, "Barely addresses the task."),
    ],
)
def test_parse_verdict_reads_json(reply: str, score: float, reason: str) -> None:
    verdict = parse_verdict(reply)
    assert verdict is not None
    assert verdict[0] == pytest.approx(score)
    assert verdict[1] == reason


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ("score: 7/10", 0.7),
        ("Score: 7 / 10. The answer is fine.", 0.7),
        ("Score: 3/5 because it is vague.", 0.6),
        ("SCORE = 8", 0.8),
        ("score: 0.9", 0.9),
        ("Final score - 4", 0.4),
        ('{"score": "high"} so overall score: 6/10', 0.6),
    ],
)
def test_parse_verdict_reads_a_score_written_out(reply: str, score: float) -> None:
    verdict = parse_verdict(reply)
    assert verdict is not None
    assert verdict[0] == pytest.approx(score)
    assert verdict[1] == reply.strip()


@pytest.mark.parametrize(
    "reply",
    ["", "I cannot evaluate this.", '{"reason": "no score here"}', "{}", '{"score": null}', "10"],
)
def test_parse_verdict_of_garbage_is_none(reply: str) -> None:
    assert parse_verdict(reply) is None


def test_g_eval_needs_a_judge() -> None:
    with pytest.raises(MetricParamsError, match="judge"):
        GEval({}, MetricDeps())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rubric": 5}, "rubric"),
        ({"rubric": ["be nice"]}, "rubric"),
        ({"aspects": ["relevance", "vibes"]}, "vibes"),
        ({"aspects": "tone"}, "aspects"),
        ({"aspects": {"tone": 1}}, "aspects"),
    ],
)
def test_g_eval_rejects_bad_params(params: dict[str, Any], message: str) -> None:
    with pytest.raises(MetricParamsError, match=message) as info:
        GEval(params, MetricDeps(judge=FakeJudge()))
    if "aspects" in params:
        for name in ASPECTS:
            assert name in str(info.value)


async def test_the_rubric_reaches_the_judge_word_for_word() -> None:
    rubric = "Award 10 only if the reply\n  - names the capital, and\n  - uses $dollar {braces}."
    judge = FakeJudge()
    metric = GEval({"rubric": rubric}, MetricDeps(judge=judge))
    result = await metric.score(sample_of("Paris", "Paris", prompt="Capital of {country}?"))
    assert rubric in judge.content
    for text in ASPECTS.values():
        assert text not in judge.content
    assert result.score == pytest.approx(0.8)
    assert result.feedback == "Mostly right."


async def test_aspects_become_the_criteria() -> None:
    judge = FakeJudge()
    metric = GEval({"aspects": ["tone", "coherence"]}, MetricDeps(judge=judge))
    await metric.score(sample_of("Hello there", None))
    assert f"- {ASPECTS['tone']}\n- {ASPECTS['coherence']}" in judge.content
    assert ASPECTS["accuracy"] not in judge.content


async def test_default_criteria_are_relevance_accuracy_completeness() -> None:
    judge = FakeJudge()
    await GEval({}, MetricDeps(judge=judge)).score(sample_of("x"))
    for name in ("relevance", "accuracy", "completeness"):
        assert ASPECTS[name] in judge.content
    assert ASPECTS["tone"] not in judge.content


async def test_the_judge_sees_prompt_reference_and_output() -> None:
    judge = FakeJudge()
    sample = sample_of(
        "The result is 4.",
        {"answer": 4},
        prompt="Compute {question}",
        metadata={"sim": {"rules": ["json"]}},
        seed=11,
    )
    await GEval({}, MetricDeps(judge=judge)).score(sample)
    (_, hints), *_ = judge.calls
    assert "Compute {question}" in judge.content
    assert 'REFERENCE ANSWER:\n{"answer": 4}' in judge.content
    assert "The result is 4." in judge.content
    assert hints == {
        "role": "judge",
        "prompt": "Compute {question}",
        "expected": '{"answer": 4}',
        "output": "The result is 4.",
        "sim": {"rules": ["json"]},
        "seed": 11,
    }


async def test_without_an_expected_output_there_is_no_reference() -> None:
    judge = FakeJudge()
    await GEval({}, MetricDeps(judge=judge)).score(sample_of("x", None))
    assert "REFERENCE ANSWER" not in judge.content
    assert judge.calls[0][1]["expected"] == ""


async def test_an_unreadable_reply_scores_zero_with_feedback() -> None:
    judge = FakeJudge("I'd rather not say.")
    result = await GEval({}, MetricDeps(judge=judge)).score(sample_of("x", "y"))
    assert result.score == 0.0
    assert "could not be read" in result.feedback
    assert "I'd rather not say." in result.feedback


@pytest.mark.parametrize(
    ("prompt", "output", "score"),
    [
        ("Give only the number as the answer.\n{q}", "42", 1.0),
        ("{q}", "The result is 42.", 0.0),
    ],
)
async def test_g_eval_with_the_simulated_judge(prompt: str, output: str, score: float) -> None:
    provider = SimProvider()

    async def sim_judge(messages: Sequence[ChatMessage], hints: Mapping[str, Any]) -> str:
        request = CompletionRequest("default", tuple(messages), hints=hints)
        return (await provider.complete(request)).text

    metric = GEval({}, MetricDeps(judge=sim_judge))
    result = await metric.score(sample_of(output, "42", prompt=prompt))
    assert result.score == score
    if score < 1:
        assert "number alone" in result.feedback
