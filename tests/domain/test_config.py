"""JobConfig: every field of PROTOCOL.md's config table, its default, range and wire name."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from whetstone.domain.config import MUTATION_TYPES, Budget, JobConfig, MetricSpec

# field (wire name) -> default, as written in PROTOCOL.md's config table
PROTOCOL_DEFAULTS: dict[str, Any] = {
    "maxIterations": 10,
    "targetScore": None,
    "patience": None,
    "minImprovement": 0.01,
    "mutationStrength": 0.5,
    "mutationTypes": None,
    "candidatesPerIteration": 4,
    "evaluationMetrics": None,
    "preserveVariables": True,
    "preserveStructure": False,
    "timeout": 3_600_000,
    "model": None,
    "taskModel": None,
    "mutationModel": None,
    "judgeModel": None,
    "dryRun": False,
    "budget": None,
    "concurrency": 8,
    "seed": None,
    "tuningParams": {},
}

DESIGN_MUTATION_TYPES = {"reflective", "history", "fewshot", "rephrase", "crossover", "compress"}


def error_locs(exc: ValidationError) -> list[tuple[str | int, ...]]:
    return [tuple(e["loc"]) for e in exc.errors()]


def test_defaults_match_the_protocol_table() -> None:
    assert JobConfig().to_wire() == PROTOCOL_DEFAULTS


def test_to_wire_has_exactly_the_protocol_fields_in_camel_case() -> None:
    wire = JobConfig(max_iterations=3, dry_run=True, budget=Budget(max_llm_calls=5)).to_wire()
    assert set(wire) == set(PROTOCOL_DEFAULTS)
    assert wire["maxIterations"] == 3
    assert wire["dryRun"] is True
    assert wire["budget"] == {"maxCostUsd": None, "maxLlmCalls": 5, "maxTokens": None}


INT_RANGES = [
    ("maxIterations", "max_iterations", 1, 100),
    ("concurrency", "concurrency", 1, 256),
    ("candidatesPerIteration", "candidates_per_iteration", 1, 32),
    ("patience", "patience", 1, 50),
]
FLOAT_FIELDS = [
    ("targetScore", "target_score"),
    ("minImprovement", "min_improvement"),
    ("mutationStrength", "mutation_strength"),
]


@pytest.mark.parametrize(("wire", "attr", "low", "high"), INT_RANGES)
def test_int_fields_accept_both_edges_and_reject_just_outside(
    wire: str, attr: str, low: int, high: int
) -> None:
    assert getattr(JobConfig.model_validate({wire: low}), attr) == low
    assert getattr(JobConfig.model_validate({wire: high}), attr) == high
    for outside in (low - 1, high + 1):
        with pytest.raises(ValidationError) as info:
            JobConfig.model_validate({wire: outside})
        assert error_locs(info.value) == [(wire,)]


@pytest.mark.parametrize(("wire", "attr"), [(w, a) for w, a, _, _ in INT_RANGES])
def test_int_fields_reject_fractions(wire: str, attr: str) -> None:
    with pytest.raises(ValidationError):
        JobConfig.model_validate({wire: 2.5})


@pytest.mark.parametrize(("wire", "attr"), FLOAT_FIELDS)
@pytest.mark.parametrize("value", [0, 0.0, 0.25, 1, 1.0])
def test_float_fields_accept_zero_to_one(wire: str, attr: str, value: float) -> None:
    assert getattr(JobConfig.model_validate({wire: value}), attr) == value


@pytest.mark.parametrize(
    ("data", "loc"),
    [({w: v}, (w,)) for w, _ in FLOAT_FIELDS for v in (-0.01, 1.01, float("nan"), float("inf"))]
    + [({"timeout": v}, ("timeout",)) for v in (-1, 0, 999, 7 * 24 * 3600 * 1000 + 1)]
    + [({"seed": v}, ("seed",)) for v in (-1, 2**63)]
    + [
        ({"budget": {"maxCostUsd": 0}}, ("budget", "maxCostUsd")),
        ({"budget": {"maxCostUsd": -1}}, ("budget", "maxCostUsd")),
        ({"budget": {"maxLlmCalls": 0}}, ("budget", "maxLlmCalls")),
        ({"budget": {"maxTokens": 0}}, ("budget", "maxTokens")),
        ({"budget": {"maxTokens": 1.5}}, ("budget", "maxTokens")),
    ],
)
def test_out_of_range_values_are_rejected_naming_the_field(
    data: dict[str, Any], loc: tuple[str, ...]
) -> None:
    with pytest.raises(ValidationError) as info:
        JobConfig.model_validate(data)
    assert error_locs(info.value) == [loc]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timeout", 1000),
        ("timeout", 3_600_000),
        ("timeout", 7 * 24 * 3600 * 1000),
        ("seed", 0),
        ("seed", 2**63 - 1),
    ],
)
def test_edges_in_range_are_accepted(field: str, value: int) -> None:
    assert getattr(JobConfig.model_validate({field: value}), field) == value


@pytest.mark.parametrize(
    ("wire", "attr", "value"),
    [
        ("maxIterations", "max_iterations", 7),
        ("targetScore", "target_score", 0.9),
        ("minImprovement", "min_improvement", 0.05),
        ("mutationStrength", "mutation_strength", 0.1),
        ("mutationTypes", "mutation_types", ["rephrase"]),
        ("candidatesPerIteration", "candidates_per_iteration", 2),
        ("preserveVariables", "preserve_variables", False),
        ("preserveStructure", "preserve_structure", True),
        ("taskModel", "task_model", "openai/gpt-4o-mini"),
        ("mutationModel", "mutation_model", "anthropic/claude-sonnet-4-5"),
        ("judgeModel", "judge_model", "sim/default"),
        ("dryRun", "dry_run", True),
        ("tuningParams", "tuning_params", {"reflective": {"minibatch": 3}}),
    ],
)
def test_camel_and_snake_case_are_both_accepted(wire: str, attr: str, value: Any) -> None:
    assert getattr(JobConfig.model_validate({wire: value}), attr) == value
    assert getattr(JobConfig.model_validate({attr: value}), attr) == value
    assert JobConfig.model_validate({attr: value}).to_wire()[wire] == value


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"maxIteration": 1}, ("maxIteration",)),
        ({"max_iteration": 1}, ("max_iteration",)),
        ({"temperature": 0.2}, ("temperature",)),
        ({"budget": {"maxDollars": 1}}, ("budget", "maxDollars")),
    ],
)
def test_unknown_fields_are_rejected_by_name(data: dict[str, Any], loc: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        JobConfig.model_validate(data)
    assert error_locs(info.value) == [loc]
    assert info.value.errors()[0]["type"] == "extra_forbidden"


def test_config_is_frozen() -> None:
    config = JobConfig()
    with pytest.raises(ValidationError):
        config.max_iterations = 5  # type: ignore[misc]


def test_mutation_types_are_the_designs() -> None:
    assert set(MUTATION_TYPES) == DESIGN_MUTATION_TYPES
    for name in DESIGN_MUTATION_TYPES:
        assert JobConfig(mutation_types=[name]).mutation_types == [name]


def test_mutation_types_unknown_names_are_listed_with_the_valid_ones() -> None:
    with pytest.raises(ValidationError) as info:
        JobConfig.model_validate({"mutationTypes": ["rephrase", "telepathy"]})
    assert error_locs(info.value) == [("mutationTypes",)]
    message = str(info.value)
    assert "'telepathy'" in message
    for name in DESIGN_MUTATION_TYPES:
        assert name in message


def test_mutation_types_empty_list_rejected() -> None:
    with pytest.raises(ValidationError, match="at least one"):
        JobConfig(mutation_types=[])


def test_mutation_types_duplicates_collapse_keeping_order() -> None:
    config = JobConfig(mutation_types=["compress", "reflective", "compress"])
    assert config.mutation_types == ["compress", "reflective"]


def test_evaluation_metrics_accept_names_and_objects() -> None:
    config = JobConfig.model_validate(
        {
            "evaluationMetrics": [
                "exact_match",
                {"name": "regex", "weight": 2, "params": {"pattern": "^yes$"}},
                {"name": "token_f1"},
            ]
        }
    )
    assert config.evaluation_metrics == [
        MetricSpec(name="exact_match"),
        MetricSpec(name="regex", weight=2.0, params={"pattern": "^yes$"}),
        MetricSpec(name="token_f1", weight=1.0, params={}),
    ]
    assert config.to_wire()["evaluationMetrics"] == [
        {"name": "exact_match", "weight": 1.0, "params": {}},
        {"name": "regex", "weight": 2.0, "params": {"pattern": "^yes$"}},
        {"name": "token_f1", "weight": 1.0, "params": {}},
    ]


@pytest.mark.parametrize(
    ("metrics", "loc"),
    [
        ([], ("evaluationMetrics",)),
        ([""], ("evaluationMetrics", 0, "name")),
        ([{"weight": 1}], ("evaluationMetrics", 0, "name")),
        (["exact_match", {"name": "x", "weight": 0}], ("evaluationMetrics", 1, "weight")),
        ([{"name": "x", "weight": -1}], ("evaluationMetrics", 0, "weight")),
        ([{"name": "x", "bogus": 1}], ("evaluationMetrics", 0, "bogus")),
    ],
)
def test_evaluation_metrics_invalid(metrics: list[Any], loc: tuple[str | int, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        JobConfig.model_validate({"evaluationMetrics": metrics})
    assert loc in error_locs(info.value)


@pytest.mark.parametrize(
    "name",
    ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "sim/default", "openai/org/model:tag"],
)
@pytest.mark.parametrize("field", ["model", "taskModel", "mutationModel", "judgeModel"])
def test_model_names_provider_slash_model_accepted(field: str, name: str) -> None:
    assert JobConfig.model_validate({field: name}).to_wire()[field] == name


@pytest.mark.parametrize(
    "name",
    ["gpt-4o", "", "openai/", "/gpt-4o", "openai/gpt 4o", "open ai/gpt"],
)
@pytest.mark.parametrize("field", ["model", "taskModel", "mutationModel", "judgeModel"])
def test_model_names_without_provider_rejected(field: str, name: str) -> None:
    with pytest.raises(ValidationError) as info:
        JobConfig.model_validate({field: name})
    assert error_locs(info.value) == [(field,)]
    assert "provider/model" in str(info.value)


def test_model_name_with_a_trailing_newline_rejected() -> None:
    with pytest.raises(ValidationError):
        JobConfig(model="openai/gpt-4o\n")


def test_budget_fields_in_both_spellings() -> None:
    wire = JobConfig.model_validate(
        {"budget": {"maxCostUsd": 1.5, "maxLlmCalls": 100, "maxTokens": 50_000}}
    ).budget
    snake = JobConfig.model_validate(
        {"budget": {"max_cost_usd": 1.5, "max_llm_calls": 100, "max_tokens": 50_000}}
    ).budget
    assert wire == snake == Budget(max_cost_usd=1.5, max_llm_calls=100, max_tokens=50_000)


def test_with_defaults_uses_the_server_default_model_for_every_role() -> None:
    resolved = JobConfig().with_defaults(default_model="openai/gpt-4o-mini", seed=42)
    assert resolved.model == "openai/gpt-4o-mini"
    assert resolved.task_model == resolved.mutation_model == resolved.judge_model == resolved.model
    assert resolved.seed == 42


def test_with_defaults_roles_fall_back_to_model() -> None:
    config = JobConfig(model="anthropic/claude-sonnet-4-5", judge_model="openai/gpt-4o")
    resolved = config.with_defaults(default_model="openai/gpt-4o-mini", seed=1)
    assert resolved.model == "anthropic/claude-sonnet-4-5"
    assert resolved.task_model == "anthropic/claude-sonnet-4-5"
    assert resolved.mutation_model == "anthropic/claude-sonnet-4-5"
    assert resolved.judge_model == "openai/gpt-4o"


def test_with_defaults_dry_run_runs_on_the_simulator() -> None:
    resolved = JobConfig(dry_run=True).with_defaults(default_model="openai/gpt-4o-mini", seed=1)
    assert resolved.model == resolved.task_model == "sim/default"
    assert resolved.mutation_model == resolved.judge_model == "sim/default"


def test_with_defaults_dry_run_never_resolves_a_paid_model() -> None:
    # PROTOCOL.md: dryRun -- "every role runs on the sim provider; no paid calls".
    config = JobConfig(dry_run=True, model="openai/gpt-4o-mini", judge_model="anthropic/x")
    resolved = config.with_defaults(default_model="openai/gpt-4o-mini", seed=1)
    roles = [resolved.model, resolved.task_model, resolved.mutation_model, resolved.judge_model]
    assert [str(role).split("/")[0] for role in roles] == ["sim"] * 4


def test_with_defaults_keeps_a_given_seed_including_zero() -> None:
    assert JobConfig(seed=7).with_defaults(default_model="sim/default", seed=99).seed == 7
    assert JobConfig(seed=0).with_defaults(default_model="sim/default", seed=99).seed == 0


def test_with_defaults_leaves_the_original_and_other_fields_alone() -> None:
    config = JobConfig(max_iterations=3, concurrency=2)
    resolved = config.with_defaults(default_model="sim/default", seed=5)
    assert (config.model, config.seed) == (None, None)
    assert (resolved.max_iterations, resolved.concurrency) == (3, 2)
    assert JobConfig.model_validate(resolved.to_wire()) == resolved


def test_wire_round_trip() -> None:
    config = JobConfig.model_validate(
        {
            "maxIterations": 5,
            "targetScore": 0.95,
            "patience": 3,
            "mutationTypes": ["reflective", "fewshot"],
            "evaluationMetrics": ["exact_match", {"name": "contains", "weight": 0.5}],
            "model": "sim/default",
            "budget": {"maxCostUsd": 2.0},
            "seed": 123,
            "tuningParams": {"fewshot": {"k": 2}},
        }
    )
    assert JobConfig.model_validate(config.to_wire()) == config
