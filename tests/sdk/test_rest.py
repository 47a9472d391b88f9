"""Every REST endpoint of PROTOCOL.md through the SDK, against the real app in-process (the
``transport=`` seam with ``httpx.ASGITransport``); the runner is not running, so jobs stay
queued unless a test acts on them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from whetstone import __version__
from whetstone.errors import InvalidRequest, InvalidTransition, NotFound
from whetstone.sdk import AsyncWhetstone, Item, JobCancelled, JobStarted, Message
from whetstone.server.app import create_app
from whetstone.server.services import Services

ITEMS = [
    {"input": {"question": "2+2"}, "expected_output": "4"},  # snake_case is accepted
    {"input": {"question": "capital of France"}, "expectedOutput": "Paris", "metadata": {"n": 2}},
]


@pytest.fixture
async def sdk(services: Services, auth: dict[str, str]) -> AsyncIterator[AsyncWhetstone]:
    transport = httpx.ASGITransport(app=create_app(services=services))
    key = auth["Authorization"].removeprefix("Bearer ")
    async with AsyncWhetstone("http://test", key, transport=transport) as client:
        yield client


async def test_health(sdk: AsyncWhetstone) -> None:
    health = await sdk.health()
    assert (health.status, health.version) == ("ok", __version__)


async def test_prompts(sdk: AsyncWhetstone) -> None:
    first = await sdk.prompts.create(
        "qa", template="Answer: {question}", description="v1", tags=["demo"]
    )
    assert (first.name, first.version, first.is_latest, first.source) == ("qa", 1, True, "user")
    assert first.variables == ("question",)
    assert first.tags == ("demo",)
    assert first.created_at is not None
    assert first.created_at.tzinfo is not None
    second = await sdk.prompts.create_version(
        first.id,
        messages=[Message("system", "Be brief."), {"role": "user", "content": "{question}"}],
    )
    assert second.version == 2
    assert second.template is None
    assert second.messages == (Message("system", "Be brief."), Message("user", "{question}"))
    assert second.body.variables == ["question"]
    assert (await sdk.prompts.get(first.id)).is_latest is False
    assert [p.version for p in await sdk.prompts.versions(second.id)] == [1, 2]
    page = await sdk.prompts.list(name="qa")
    assert [p.id for p in page.items] == [second.id]
    assert (page.total, page.offset, page.has_more) == (1, 0, False)
    with pytest.raises(ValueError, match="exactly one"):
        await sdk.prompts.create("bad", template="x", messages=[])
    with pytest.raises(InvalidRequest) as caught:
        await sdk.prompts.create("qa", template="again")
    assert "versions" in caught.value.message


async def test_datasets_and_items(sdk: AsyncWhetstone) -> None:
    dataset = await sdk.datasets.create("ds", description="two", items=ITEMS)
    assert (dataset.name, dataset.item_count, dataset.description) == ("ds", 2, "two")
    more = (Item("x", {"question": f"q{n}"}, f"a{n}") for n in range(5))  # read lazily
    assert await sdk.datasets.add_items(dataset.id, more, batch_size=2) == 5
    assert (await sdk.datasets.get(dataset.id)).item_count == 7
    page = await sdk.datasets.items(dataset.id, limit=2)
    assert [i.expected_output for i in page.items] == ["4", "Paris"]
    assert page.items[1].metadata == {"n": 2}
    assert page.has_more
    every = [i.input["question"] async for i in sdk.datasets.iterate_items(dataset.id, page_size=3)]
    assert every == ["2+2", "capital of France", *(f"q{n}" for n in range(5))]
    assert [d.id async for d in sdk.datasets.iterate()] == [dataset.id]
    assert (await sdk.datasets.list(limit=1)).total == 1


async def test_optimizations(sdk: AsyncWhetstone) -> None:
    prompt = await sdk.prompts.create("opt", template="Answer: {question}")
    dataset = await sdk.datasets.create("opt", items=ITEMS)
    config = {"max_iterations": 2, "dryRun": True, "budget": {"max_llm_calls": 100}}
    job = await sdk.optimization.start(prompt.id, dataset.id, config)
    assert job.status == "queued"
    assert not job.is_terminal
    assert job.config["maxIterations"] == 2
    assert job.config["budget"]["maxLlmCalls"] == 100
    assert job.simulated
    assert job.usage.llm_calls == 0
    assert (await sdk.optimization.get(job.id)).id == job.id
    assert [j.id for j in (await sdk.optimization.list(status="queued")).items] == [job.id]
    assert [j.id async for j in sdk.optimization.iterate(status="running")] == []
    with pytest.raises(InvalidTransition, match="running"):
        await sdk.optimization.pause(job.id)
    with pytest.raises(InvalidTransition):
        await sdk.optimization.results(job.id)
    cancelled = await sdk.optimization.cancel(job.id, reason="changed my mind")
    assert cancelled.status == "cancelled"
    assert cancelled.is_terminal
    results = await sdk.optimization.results(job.id)
    assert (results.status, results.stop_reason, results.job_id) == (
        "cancelled",
        "cancelled",
        job.id,
    )
    assert results.best_prompt is not None
    assert results.best_prompt.template == prompt.template
    page = await sdk.optimization.events(job.id)
    assert page.head_event_id == 1
    assert not page.has_more
    (event,) = page.items
    assert isinstance(event, JobCancelled)
    assert event.reason == "changed my mind"
    assert [e.id async for e in sdk.optimization.iterate_events(job.id, page_size=1)] == [1]


async def test_config_errors_name_the_field(sdk: AsyncWhetstone) -> None:
    prompt = await sdk.prompts.create("cfg", template="Answer: {question}")
    dataset = await sdk.datasets.create("cfg", items=ITEMS)
    with pytest.raises(InvalidRequest) as caught:
        await sdk.optimization.start(prompt.id, dataset.id, {"max_iterations": 1000})
    assert list(caught.value.details) == ["config.max_iterations"]  # as the caller spelled it
    with pytest.raises(NotFound):
        await sdk.optimization.start("prm_nope", dataset.id)


async def test_a_job_run_shows_up_in_the_event_log(sdk: AsyncWhetstone, services: Services) -> None:
    prompt = await sdk.prompts.create("run", template="Answer: {question}")
    dataset = await sdk.datasets.create("run", items=ITEMS)
    job = await sdk.optimization.start(prompt.id, dataset.id, {"max_iterations": 2})
    assert services.runner is not None
    await services.runner.run_until_idle()
    events = [e async for e in sdk.optimization.iterate_events(job.id, page_size=2)]
    assert isinstance(events[0], JobStarted)
    assert events[0].prompt_id == prompt.id
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    later = await sdk.optimization.events(job.id, after_event_id=2, limit=1)
    assert [e.id for e in later.items] == [3]
    assert later.has_more
    assert later.after_event_id == 2
    results = await sdk.optimization.results(job.id)
    assert results.iterations == 2
    assert results.status == "completed"
