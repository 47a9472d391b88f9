"""Whole jobs on ``openai/…`` and ``anthropic/…`` models against the fake LLM server: every
role (task, mutation, judge) goes over HTTP to its model, the job completes, and its usage
is what the fake billed, priced by the settings' table."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PRICES
from tests.e2e.helpers import CONFIG, run_one
from tests.engine.optimizer_helpers import check_grammar, get_results, of_type
from tests.support.api import Api
from tests.support.fake_llm import ANTHROPIC_KEY, OPENAI_KEY, FakeLLM
from tests.support.role_llm import (
    RULE,
    TEMPLATE,
    RoleResponder,
    assert_one_user_message,
    request_text,
    role_of,
)
from whetstone.server.services import Services

# What each provider's requests look like on the wire: path, key header, its value.
WIRE = {
    "openai": ("/v1/chat/completions", "authorization", f"Bearer {OPENAI_KEY}"),
    "anthropic": ("/v1/messages", "x-api-key", ANTHROPIC_KEY),
}
ROLE_MODELS = {
    "openai": {
        "task": "openai/fake-task",
        "mutation": "openai/fake-mutator",
        "judge": "openai/fake-judge",
    },
    "anthropic": {
        "task": "anthropic/fake-task",
        "mutation": "anthropic/fake-mutator",
        "judge": "anthropic/fake-judge",
    },
    "mixed": {
        "task": "anthropic/fake-task",
        "mutation": "openai/fake-mutator",
        "judge": "anthropic/fake-judge",
    },
}


@pytest.mark.parametrize("providers", list(ROLE_MODELS))
async def test_a_job_runs_to_completion_on_real_providers(
    api: Api, services: Services, fake: FakeLLM, responder: RoleResponder, providers: str
) -> None:
    models = ROLE_MODELS[providers]
    config = {
        "model": models["task"],
        "taskModel": models["task"],
        "mutationModel": models["mutation"],
        "judgeModel": models["judge"],
    }
    done = await run_one(api, services, **config)
    job, events = done.job, done.events

    assert job["status"] == "completed", done.events[-1]
    assert job["stopReason"] == "max_iterations"
    run = check_grammar(events, min_improvement=job["config"]["minImprovement"])
    assert run.iterations == CONFIG["maxIterations"]
    assert job["lastEventId"] == len(events)
    results = await get_results(api, job["id"])
    assert results["simulated"] is False
    assert results["initialScore"] == pytest.approx(0.1)  # exact_match 0, the judge 2/10
    assert results["finalScore"] == 1.0
    assert results["bestPrompt"] == {"template": f"{RULE} {TEMPLATE}"}
    assert of_type(events, "new_best")[0]["data"]["candidateId"] == "cand-1-1"

    # Each role went to its own model, over its provider's protocol, with that one's key.
    assert {role_of(request_text(sent.body)) for sent in fake.requests} == set(models)
    for sent in fake.requests:
        provider, _, model = models[role_of(request_text(sent.body))].partition("/")
        path, header, key = WIRE[provider]
        assert (sent.path, sent.headers[header], sent.body["model"]) == (path, key, model)
    assert_one_user_message(fake)

    # Usage is what the fake billed: each paid call is one answered request.
    usage = job["usage"]
    assert usage["llmCalls"] == len(fake.requests) == len(responder.answered)
    assert (usage["inputTokens"], usage["outputTokens"]) == responder.tokens()
    assert usage["costUsd"] == pytest.approx(responder.cost(models, PRICES), abs=1e-9)
    assert usage["costUsd"] > 0
    assert results["usage"] == usage == run.usage
    assert OPENAI_KEY not in done.text()
    assert ANTHROPIC_KEY not in done.text()


async def test_semantic_similarity_embeds_with_the_providers_endpoint(
    api: Api, services: Services, fake: FakeLLM
) -> None:
    metrics = [
        "exact_match",
        {
            "name": "semantic_similarity",
            "params": {"backend": "provider", "model": "openai/fake-embed"},
        },
    ]
    done = await run_one(api, services, model="openai/fake-gpt", evaluationMetrics=metrics)

    assert done.job["status"] == "completed", done.events[-1]
    check_grammar(done.events)
    embedded = [sent for sent in fake.requests if sent.path == "/v1/embeddings"]
    assert embedded
    assert {sent.body["model"] for sent in embedded} == {"fake-embed"}
    assert {sent.headers["authorization"] for sent in embedded} == {f"Bearer {OPENAI_KEY}"}
    metric_keys = {
        k for e in of_type(done.events, "evaluation_complete") for k in e["data"]["metrics"]
    }
    assert metric_keys == {"exact_match", "semantic_similarity"}


async def test_a_model_with_no_price_costs_nothing(
    api: Api, services: Services, fake: FakeLLM, responder: RoleResponder
) -> None:
    """A local model, say: its tokens are counted, its cost is 0."""
    done = await run_one(api, services, model="openai/unpriced-local-model")

    assert done.job["status"] == "completed", done.events[-1]
    assert done.usage["llmCalls"] == len(fake.requests) > 0
    assert (done.usage["inputTokens"], done.usage["outputTokens"]) == responder.tokens()
    assert done.usage["costUsd"] == 0
    assert done.usage["cachedCostUsd"] == 0
