"""make_split and OptimizerFactory's check that every role's provider exists."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.engine.fakes import FakeProvider, ListItems
from whetstone.clock import ManualClock
from whetstone.domain.config import JobConfig
from whetstone.domain.dataset import Dataset, Item
from whetstone.domain.job import Job
from whetstone.domain.prompt import Prompt, PromptBody, PromptSource
from whetstone.domain.status import JobStatus
from whetstone.domain.usage import Usage
from whetstone.engine.base import JobContext
from whetstone.engine.factory import OptimizerFactory, make_split
from whetstone.engine.llm import Role
from whetstone.engine.optimizer import OptimizerEngine
from whetstone.errors import ProviderError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_small_dataset_is_used_whole_for_both() -> None:
    split = make_split(7, seed=3)
    assert split.val == list(range(7))
    assert split.train == list(range(7))


def test_dataset_of_exactly_val_size_is_used_whole() -> None:
    split = make_split(20, seed=3, val_size=20)
    assert split.val == split.train == list(range(20))


def test_larger_dataset_keeps_a_seeded_validation_sample() -> None:
    split = make_split(250, seed=3, val_size=100)
    assert len(split.val) == 100
    assert split.val == sorted(split.val)
    assert not set(split.val) & set(split.train)
    assert sorted(split.val + split.train) == list(range(250))
    assert split.val != list(range(100))  # a sample, not the first items


def test_split_is_deterministic_per_seed() -> None:
    assert make_split(250, seed=3, val_size=50) == make_split(250, seed=3, val_size=50)
    assert make_split(250, seed=3, val_size=50).val != make_split(250, seed=4, val_size=50).val


def context(config: JobConfig) -> JobContext:
    items = [Item(f"it_{n}", "ds_1", n, {"question": f"{n}+1?"}, str(n + 1)) for n in range(3)]
    job = Job(
        id="job_1",
        workspace_id="ws_1",
        status=JobStatus.RUNNING,
        prompt_id="pr_1",
        dataset_id="ds_1",
        config=config.to_wire(),
        current_iteration=0,
        initial_score=None,
        current_score=None,
        best_score=None,
        result_prompt_id=None,
        last_event_id=0,
        usage=Usage(),
        error=None,
        stop_reason=None,
        pending_action=None,
        pending_reason=None,
        created_at=NOW,
        started_at=NOW,
        finished_at=None,
    )
    prompt = Prompt(
        id="pr_1",
        workspace_id="ws_1",
        family_id="fam_1",
        name="math",
        version=1,
        is_latest=True,
        description=None,
        tags=(),
        body=PromptBody(template="Answer in digits.\n{question}"),
        source=PromptSource.USER,
        job_id=None,
        created_at=NOW,
    )
    dataset = Dataset("ds_1", "ws_1", "math", None, len(items), NOW, ("question",))
    return JobContext(
        job=job,
        config=config,
        prompt=prompt,
        dataset=dataset,
        items=ListItems(items),
        clock=ManualClock(),
        elapsed_ms=lambda: 0,
    )


def roles(**models: str) -> JobConfig:
    return (
        JobConfig(model="sim/default", seed=1)
        .with_defaults(default_model="sim/default", seed=1)
        .model_copy(update=models)
    )


@pytest.mark.parametrize(
    ("field", "model", "role", "provider"),
    [
        ("task_model", "openai/gpt-4o-mini", "task", "openai"),
        ("mutation_model", "anthropic/claude-sonnet-4-5", "mutation", "anthropic"),
        ("judge_model", "vllm/llama3", "judge", "vllm"),
    ],
)
def test_a_role_whose_provider_is_missing_is_a_provider_error(
    field: str, model: str, role: str, provider: str
) -> None:
    with pytest.raises(ProviderError) as caught:
        OptimizerFactory()(context(roles(**{field: model})))
    message = str(caught.value)
    assert repr(provider) in message
    assert model in message
    assert role in message
    assert "sim" in message  # lists what is available


def test_the_same_config_builds_once_the_provider_is_given() -> None:
    factory = OptimizerFactory(providers={"openai": FakeProvider("openai")})
    engine = factory(context(roles(task_model="openai/gpt-4o-mini")))
    assert isinstance(engine, OptimizerEngine)
    assert engine.llm.model(Role.TASK) == "openai/gpt-4o-mini"
    assert engine.llm.model(Role.JUDGE) == "sim/default"


def test_a_sim_only_config_needs_no_extra_provider() -> None:
    engine = OptimizerFactory()(context(roles()))
    assert isinstance(engine, OptimizerEngine)
