"""g_eval: an LLM judge scores the output against a rubric or named aspects, and says why."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib import resources
from string import Template
from typing import Any

from whetstone.metrics.base import (
    Judge,
    MetricDeps,
    MetricParamsError,
    MetricResult,
    Sample,
    clip,
    expected_text,
)
from whetstone.providers.base import ChatMessage

ASPECTS = {
    "relevance": "Relevance: the response addresses what the task asks.",
    "coherence": "Coherence: the response is clear and well organised.",
    "accuracy": "Accuracy: the response is factually and logically correct.",
    "completeness": "Completeness: the response covers everything the task asks for.",
    "tone": "Tone: the response has the tone the task asks for.",
}
TEMPLATE = Template(
    resources.files("whetstone.metrics").joinpath("templates/g_eval.v1.txt").read_text()
)
_JSON_OBJECT = re.compile(r"\{.*?\}", re.S)
_SCORE = re.compile(r"score\W{0,3}(\d+(?:\.\d+)?)(?:\s*/\s*(\d+))?", re.I)


def parse_verdict(text: str) -> tuple[float, str] | None:
    """(score in [0, 1], reason) from a judge's reply, tolerating prose around the JSON,
    scores on 0-1 or 0-10 scales, and ``score: 7/10`` written out."""
    for match in _JSON_OBJECT.finditer(text):
        try:
            data = json.loads(match.group(0))
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("score"), int | float):
            return _normalise(float(data["score"]), None), str(data.get("reason", "")).strip()
    found = _SCORE.search(text)
    if found is None:
        return None
    scale = float(found.group(2)) if found.group(2) else None
    return _normalise(float(found.group(1)), scale), text.strip()


def _normalise(score: float, scale: float | None) -> float:
    """The judge is asked for 0-10: whole numbers are read on that scale; a fraction
    such as 0.7 is taken as a judge that answered on 0-1."""
    if scale:
        score /= scale
    elif score > 1 or float(score).is_integer():
        score /= 10
    return min(1.0, max(0.0, score))


class GEval:
    """An LLM judge scores the output against a rubric or named aspects and says why; its
    reason is the feedback. Robust to malformed judge output."""

    name = "g_eval"
    needs_expected = False

    def __init__(self, params: Mapping[str, Any], deps: MetricDeps) -> None:
        if deps.judge is None:
            raise MetricParamsError("g_eval needs a judge model")
        self._judge: Judge = deps.judge
        rubric, aspects = params.get("rubric"), params.get("aspects")
        if rubric is not None and not isinstance(rubric, str):
            raise MetricParamsError("g_eval params.rubric must be a string")
        if aspects is not None:
            unknown = (
                [a for a in aspects if a not in ASPECTS] if isinstance(aspects, list) else [aspects]
            )
            if unknown:
                raise MetricParamsError(
                    f"g_eval params.aspects: unknown {unknown}; valid: {', '.join(ASPECTS)}"
                )
        if rubric:
            self.criteria = rubric  # read word for word by the judge
        else:
            names = aspects or ["relevance", "accuracy", "completeness"]
            self.criteria = "\n".join(f"- {ASPECTS[a]}" for a in names)

    async def score(self, sample: Sample) -> MetricResult:
        expected = sample.expected
        reference = (
            f"REFERENCE ANSWER:\n{expected_text(expected)}\n" if expected is not None else ""
        )
        content = TEMPLATE.substitute(
            criteria=self.criteria, prompt=sample.prompt, reference=reference, output=sample.output
        )
        hints = {
            "role": "judge",
            "prompt": sample.prompt,
            "expected": expected_text(expected) if expected is not None else "",
            "output": sample.output,
            "sim": (sample.item.metadata or {}).get("sim"),
            "seed": sample.seed,
        }
        reply = await self._judge([ChatMessage("user", content)], hints)
        verdict = parse_verdict(reply)
        if verdict is None:
            return MetricResult(0.0, f"The judge's reply could not be read: {clip(reply)!r}")
        return MetricResult(*verdict)
