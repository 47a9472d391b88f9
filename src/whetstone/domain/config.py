"""``JobConfig``: every field of PROTOCOL.md's config table, validated once at the boundary.

Wire names are camelCase; snake_case field names are accepted too (the SDK's
spelling). Unknown fields are rejected with a message naming them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

MUTATION_TYPES: tuple[str, ...] = (
    "reflective",
    "history",
    "fewshot",
    "rephrase",
    "crossover",
    "compress",
)

MODEL_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*/\S+")
SIM_MODEL = "sim/default"
MAX_SEED = 2**63 - 1


class _Wire(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        strict=True,  # JSON types as given: no "5" for 5, no true for 1
        allow_inf_nan=False,
    )

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, mode="json")


class Budget(_Wire):
    """Hard caps, counted across every model role."""

    max_cost_usd: Annotated[float, Field(gt=0)] | None = None
    max_llm_calls: Annotated[int, Field(ge=1)] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None


class MetricSpec(_Wire):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    weight: Annotated[float, Field(gt=0, le=1000)] = 1.0
    params: dict[str, Any] = Field(default_factory=dict)


def _check_model(value: str | None) -> str | None:
    if value is not None and not MODEL_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a model name; use 'provider/model', "
            "for example 'openai/gpt-4o-mini' or 'sim/default'"
        )
    return value


class JobConfig(_Wire):
    max_iterations: Annotated[int, Field(ge=1, le=100)] = 10
    target_score: Annotated[float, Field(ge=0, le=1)] | None = None
    patience: Annotated[int, Field(ge=1, le=50)] | None = None
    min_improvement: Annotated[float, Field(ge=0, le=1)] = 0.01
    mutation_strength: Annotated[float, Field(ge=0, le=1)] = 0.5
    mutation_types: list[str] | None = None
    candidates_per_iteration: Annotated[int, Field(ge=1, le=32)] = 4
    evaluation_metrics: list[MetricSpec] | None = None
    preserve_variables: bool = True
    preserve_structure: bool = False
    timeout: Annotated[int, Field(ge=1000, le=7 * 24 * 3600 * 1000)] = 3_600_000
    model: str | None = None
    task_model: str | None = None
    mutation_model: str | None = None
    judge_model: str | None = None
    dry_run: bool = False
    budget: Budget | None = None
    concurrency: Annotated[int, Field(ge=1, le=256)] = 8
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] | None = None
    tuning_params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("mutation_types")
    @classmethod
    def _known_mutation_types(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError(f"give at least one mutation type, from {', '.join(MUTATION_TYPES)}")
        unknown = [name for name in value if name not in MUTATION_TYPES]
        if unknown:
            raise ValueError(
                f"unknown mutation type(s) {', '.join(map(repr, unknown))}; "
                f"valid: {', '.join(MUTATION_TYPES)}"
            )
        return list(dict.fromkeys(value))

    @field_validator("evaluation_metrics", mode="before")
    @classmethod
    def _metric_names_to_specs(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("evaluation_metrics")
    @classmethod
    def _non_empty_metrics(cls, value: list[MetricSpec] | None) -> list[MetricSpec] | None:
        if value is not None and not value:
            raise ValueError("give at least one metric, or leave the field out for the default")
        return value

    @field_validator("model", "task_model", "mutation_model", "judge_model")
    @classmethod
    def _model_names(cls, value: str | None) -> str | None:
        return _check_model(value)

    def with_defaults(self, *, default_model: str, seed: int) -> JobConfig:
        """The config as the job will run it: models resolved and the seed recorded.
        A dry run puts every role on the simulator, whatever models it names."""
        seed = self.seed if self.seed is not None else seed
        if self.dry_run:
            roles = dict.fromkeys(("model", "task_model", "mutation_model", "judge_model"))
            return self.model_copy(update={**{k: SIM_MODEL for k in roles}, "seed": seed})
        model = self.model or default_model
        return self.model_copy(
            update={
                "model": model,
                "task_model": self.task_model or model,
                "mutation_model": self.mutation_model or model,
                "judge_model": self.judge_model or model,
                "seed": seed,
            }
        )


def is_simulated(config: dict[str, Any]) -> bool:
    """True when any role of a (wire) config runs on the simulator: results say so."""
    if config.get("dryRun"):
        return True
    roles = ("model", "taskModel", "mutationModel", "judgeModel")
    return any(str(config.get(role) or "").startswith("sim/") for role in roles)
