"""Metrics that compare text: exact_match, contains, regex, token_f1."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from whetstone.metrics.base import (
    MetricDeps,
    MetricParamsError,
    MetricResult,
    Sample,
    clip,
    expected_text,
)

_SPACE = re.compile(r"\s+")


def _normalise(text: str, *, case_sensitive: bool, collapse_whitespace: bool) -> str:
    text = text.strip()
    if collapse_whitespace:
        text = _SPACE.sub(" ", text)
    return text if case_sensitive else text.casefold()


def _json_equal(output: str, expected: Any) -> bool:
    try:
        return bool(json.loads(output) == expected)
    except ValueError:
        return False


class ExactMatch:
    """Output equals the expected output (JSON expected values compare as JSON)."""

    name = "exact_match"
    needs_expected = True

    def __init__(self, params: Mapping[str, Any], deps: MetricDeps) -> None:
        self.case_sensitive = bool(params.get("caseSensitive", True))
        self.collapse_whitespace = bool(params.get("collapseWhitespace", True))

    async def score(self, sample: Sample) -> MetricResult:
        expected = sample.expected
        if not isinstance(expected, str) and _json_equal(sample.output, expected):
            return MetricResult(1.0, "Correct.")
        want = expected_text(expected)
        norm = {
            "case_sensitive": self.case_sensitive,
            "collapse_whitespace": self.collapse_whitespace,
        }
        if _normalise(sample.output, **norm) == _normalise(want, **norm):
            return MetricResult(1.0, "Correct.")
        return MetricResult(0.0, f"Expected {clip(want)!r} but got {clip(sample.output)!r}.")


class Contains:
    """The output contains the expected output (or ``params.value``)."""

    name = "contains"
    needs_expected = False

    def __init__(self, params: Mapping[str, Any], deps: MetricDeps) -> None:
        self.value = params.get("value")
        self.case_sensitive = bool(params.get("caseSensitive", False))

    async def score(self, sample: Sample) -> MetricResult:
        value = self.value if self.value is not None else sample.expected
        if value is None:
            return MetricResult(0.0, "Nothing to look for: give params.value or expectedOutput.")
        want = expected_text(value)
        out = sample.output if self.case_sensitive else sample.output.casefold()
        if (want if self.case_sensitive else want.casefold()) in out:
            return MetricResult(1.0, "Contains the expected text.")
        return MetricResult(0.0, f"The output should contain {clip(want)!r}.")


class Regex:
    """The output matches ``params.pattern`` (search; ``params.fullMatch`` for the whole)."""

    name = "regex"
    needs_expected = False

    def __init__(self, params: Mapping[str, Any], deps: MetricDeps) -> None:
        pattern = params.get("pattern")
        if not isinstance(pattern, str):
            raise MetricParamsError("regex needs params.pattern, a regular expression string")
        try:
            self.pattern = re.compile(pattern, 0 if params.get("caseSensitive", True) else re.I)
        except re.error as exc:
            raise MetricParamsError(f"regex params.pattern does not compile: {exc}") from exc
        self.full = bool(params.get("fullMatch", False))

    async def score(self, sample: Sample) -> MetricResult:
        text = sample.output.strip()
        found = self.pattern.fullmatch(text) if self.full else self.pattern.search(text)
        if found:
            return MetricResult(1.0, "Matches the required pattern.")
        return MetricResult(0.0, f"The output should match the pattern {self.pattern.pattern!r}.")


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


class TokenF1:
    """Token-overlap F1 between output and expected output (SQuAD style)."""

    name = "token_f1"
    needs_expected = True

    def __init__(self, params: Mapping[str, Any], deps: MetricDeps) -> None:
        pass

    async def score(self, sample: Sample) -> MetricResult:
        want, got = _tokens(expected_text(sample.expected)), _tokens(sample.output)
        if not want or not got:
            score = float(want == got)
            return MetricResult(score, "Correct." if score else "The output is empty.")
        common = sum((Counter(want) & Counter(got)).values())
        if common == 0:
            return MetricResult(
                0.0, f"No words in common with {clip(expected_text(sample.expected))!r}."
            )
        precision, recall = common / len(got), common / len(want)
        f1 = 2 * precision * recall / (precision + recall)
        missing = [t for t in dict.fromkeys(want) if t not in got]
        extra = [t for t in dict.fromkeys(got) if t not in want]
        notes = []
        if missing:
            notes.append(f"missing words: {', '.join(missing[:8])}")
        if extra:
            notes.append(f"extra words: {', '.join(extra[:8])}")
        return MetricResult(f1, "; ".join(notes) or "Correct.")
