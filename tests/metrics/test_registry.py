"""Metric names to implementations: built-ins, entry-point plugins, unknown names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

import whetstone.plugins as plugins_module
from tests.metrics.helpers import NO_DEPS, sample_of
from whetstone.domain.config import MetricSpec
from whetstone.metrics.base import (
    MetricDeps,
    MetricFactory,
    MetricParamsError,
    MetricResult,
    Sample,
)
from whetstone.metrics.registry import BUILTIN, available_metrics, build_scorer
from whetstone.metrics.text import ExactMatch, Regex

BUILTIN_NAMES = [
    "contains",
    "exact_match",
    "g_eval",
    "json_match",
    "regex",
    "semantic_similarity",
    "token_f1",
]


class Shouting:
    """A user metric: 1 when the output is in capitals."""

    name = "shouting"
    needs_expected = False

    def __init__(self, params: Mapping[str, Any], deps: MetricDeps) -> None:
        self.min_length = int(params.get("minLength", 1))

    async def score(self, sample: Sample) -> MetricResult:
        loud = sample.output.isupper() and len(sample.output) >= self.min_length
        return MetricResult(1.0 if loud else 0.0, "" if loud else "Say it louder.")


class FakeEntryPoint:
    """What ``importlib.metadata.entry_points`` yields: a name and ``load()``."""

    def __init__(self, name: str, target: object) -> None:
        self.name = name
        self.group = "whetstone.metrics"
        self.target = target
        self.loaded = 0

    def load(self) -> object:
        self.loaded += 1
        return self.target


def install(monkeypatch: pytest.MonkeyPatch, *eps: FakeEntryPoint) -> list[str]:
    """Make ``entry_points`` see ``eps``; returns the groups it was asked for."""
    asked: list[str] = []

    def fake_entry_points(*, group: str) -> list[FakeEntryPoint]:
        asked.append(group)
        return [ep for ep in eps if ep.group == group]

    monkeypatch.setattr(plugins_module, "entry_points", fake_entry_points)
    return asked


def spec(name: str, weight: float = 1.0, **params: Any) -> MetricSpec:
    return MetricSpec(name=name, weight=weight, params=params)


def test_builtins_are_available() -> None:
    assert sorted(BUILTIN) == BUILTIN_NAMES
    assert set(BUILTIN_NAMES) <= set(available_metrics())


def test_a_user_metric_from_an_entry_point_is_found_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = install(monkeypatch, FakeEntryPoint("shouting", Shouting))
    found = available_metrics()
    assert asked == ["whetstone.metrics"]
    assert found["shouting"] is Shouting
    assert found["exact_match"] is ExactMatch


async def test_build_scorer_builds_a_user_metric_with_its_params(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install(monkeypatch, FakeEntryPoint("shouting", Shouting))
    scorer = build_scorer([spec("shouting", minLength=3)], NO_DEPS)
    assert scorer.keys == ["shouting"]
    assert (await scorer.score(sample_of("HEY"))).score == 1.0
    quiet = await scorer.score(sample_of("HI"))
    assert (quiet.score, quiet.feedback) == (0.0, "Say it louder.")


def test_an_entry_point_cannot_replace_a_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    impostor = FakeEntryPoint("exact_match", Shouting)
    install(monkeypatch, impostor)
    assert available_metrics()["exact_match"] is ExactMatch
    assert impostor.loaded == 0


def test_an_unknown_name_lists_the_valid_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeEntryPoint("shouting", Shouting))
    with pytest.raises(MetricParamsError) as info:
        build_scorer([spec("vibes")], NO_DEPS)
    message = str(info.value)
    assert "'vibes'" in message
    assert f"valid: {', '.join(sorted([*BUILTIN_NAMES, 'shouting']))}" in message


def test_an_explicit_registry_is_the_only_one_used() -> None:
    only: dict[str, MetricFactory] = {"regex": Regex}
    with pytest.raises(MetricParamsError, match=r"valid: regex$"):
        build_scorer([spec("exact_match")], NO_DEPS, only)
    scorer = build_scorer([spec("regex", pattern="a")], NO_DEPS, only)
    assert scorer.keys == ["regex"]


async def test_duplicate_names_get_distinct_keys() -> None:
    scorer = build_scorer(
        [
            spec("contains", value="a"),
            spec("exact_match"),
            spec("contains", value="b"),
            spec("contains", value="c"),
        ],
        NO_DEPS,
    )
    assert scorer.keys == ["contains", "exact_match", "contains_2", "contains_3"]
    scored = await scorer.score(sample_of("a c", "a c"))
    assert scored.metrics == {
        "contains": 1.0,
        "exact_match": 1.0,
        "contains_2": 0.0,
        "contains_3": 1.0,
    }


async def test_weights_from_the_specs_are_used() -> None:
    scorer = build_scorer(
        [spec("contains", 3.0, value="a"), spec("contains", 1.0, value="z")], NO_DEPS
    )
    assert (await scorer.score(sample_of("a"))).score == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("regex", {}),
        ("regex", {"pattern": "("}),
        ("json_match", {"fields": "a"}),
        ("g_eval", {"aspects": ["vibes"]}),
    ],
)
def test_bad_params_fail_when_the_scorer_is_built(name: str, params: dict[str, Any]) -> None:
    async def judge(*_: object) -> str:
        raise AssertionError("not called while building")

    with pytest.raises(MetricParamsError):
        build_scorer([MetricSpec(name=name, params=params)], MetricDeps(judge=judge))
