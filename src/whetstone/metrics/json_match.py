"""json_match: the output parses as JSON and equals the expected value (or given fields)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from whetstone.metrics.base import MetricDeps, MetricParamsError, MetricResult, Sample, clip


def _dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


class JsonMatch:
    """The output parses as JSON and equals the expected value, or the given fields of it."""

    name = "json_match"
    needs_expected = True

    def __init__(self, params: Mapping[str, Any], deps: MetricDeps) -> None:
        fields = params.get("fields")
        if fields is not None and not (
            isinstance(fields, list) and all(isinstance(f, str) for f in fields)
        ):
            raise MetricParamsError("json_match params.fields must be a list of field paths")
        self.fields: list[str] | None = fields

    async def score(self, sample: Sample) -> MetricResult:
        try:
            got = json.loads(sample.output)
        except ValueError:
            return MetricResult(0.0, f"The output is not valid JSON: {clip(sample.output)!r}.")
        expected = sample.expected
        if isinstance(expected, str):
            try:
                expected = json.loads(expected)
            except ValueError:
                return MetricResult(0.0, "The expected output is not JSON; use exact_match.")
        if self.fields is None:
            if got == expected:
                return MetricResult(1.0, "Correct.")
            return MetricResult(
                0.0, f"Expected {clip(json.dumps(expected))} but got {clip(sample.output)}."
            )
        right, wrong = 0, []
        for field in self.fields:
            try:
                ok = _dig(got, field) == _dig(expected, field)
            except KeyError:
                ok = False
            right += ok
            if not ok:
                wrong.append(field)
        score = right / len(self.fields) if self.fields else 1.0
        return MetricResult(
            score, f"Wrong or missing fields: {', '.join(wrong)}." if wrong else "Correct."
        )
