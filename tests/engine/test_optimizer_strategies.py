"""Mutation types through whole runs: each alone, their fallbacks, the default mix, and the
checks on every candidate (preserveVariables, preserveStructure, replies without a prompt),
with a scripted mutation model standing in for a real provider where a reply must be exact."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.optimizer_helpers import (
    Event,
    ScriptedProvider,
    all_events,
    check_grammar,
    get_results,
    of_type,
    proposals,
    run_jobs,
    sample_task,
    types_of,
)
from tests.support.api import Api
from whetstone.domain.config import MUTATION_TYPES
from whetstone.engine.base import EngineFactory
from whetstone.engine.factory import OptimizerFactory
from whetstone.samples import load_sample
from whetstone.server.services import Services

# The mutation model is the scripted one ("openai" passes the server's provider check);
# the task model and the judge stay on the simulator.
SCRIPTED: dict[str, Any] = {
    "dryRun": False,
    "taskModel": "sim/default",
    "judgeModel": "sim/default",
    "mutationModel": "openai/scripted",
    "mutationTypes": ["rephrase"],
    "maxIterations": 1,
    "candidatesPerIteration": 1,
}
STRUCTURED = "# Task\nAnswer the question.\n\n# Input\n{question}"


@pytest.fixture
def scripted() -> ScriptedProvider:
    return ScriptedProvider("openai", "<prompt>\nno variables here\n</prompt>")


@pytest.fixture
def engine_factory(scripted: ScriptedProvider) -> EngineFactory:
    return OptimizerFactory(providers={"openai": scripted})


async def _run(
    api: Api, services: Services, name: str, *, template: str | None = None, **config: Any
) -> tuple[list[Event], dict[str, Any]]:
    task = await sample_task(api, name, template=template)
    job = await task.start(api, **config)
    await run_jobs(services)
    events = await all_events(api, job["id"])
    check_grammar(events)
    return events, await get_results(api, job["id"])


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("reflective", "capitals"),
        ("rephrase", "catalog-assistant"),
        ("compress", "capitals"),
        ("fewshot", "capitals"),
        ("fewshot", "catalog-assistant"),
        ("history", "catalog-assistant"),
        ("crossover", "catalog-assistant"),
    ],
)
async def test_each_mutation_type_alone(api: Api, services: Services, kind: str, name: str) -> None:
    events, results = await _run(api, services, name, mutationTypes=[kind], maxIterations=6)
    assert results["status"] == "completed"
    assert results["stopReason"] == "max_iterations"
    kinds = types_of(events)
    assert kinds
    assert set(kinds) <= {kind, "rephrase"}
    for data, pool, best in proposals(events):
        parents = data["parentIds"]
        if data["mutationType"] == "crossover":
            assert len(parents) == 2
            assert len(set(parents)) == 2
        else:
            assert len(parents) == 1
        if kind == "history":  # history needs two scored candidates; rephrase stands in
            assert (data["mutationType"] == "history") == (pool >= 2), (data, pool)
        if kind == "fewshot":  # fewshot needs an item the best gets right (exact_match)
            assert (data["mutationType"] == "fewshot") == (best > 0), (data, best)
    if kind in ("reflective", "rephrase", "compress", "fewshot", "history"):
        assert kind in kinds
    if kind == "reflective":
        assert results["finalScore"] - results["initialScore"] >= 0.5
    if kind == "compress":  # shorter or the same, never longer than its parent
        templates = {"baseline": load_sample(name)["prompt"]["template"]}
        for data in (e["data"] for e in of_type(events, "mutation_generated")):
            if data["status"] == "kept":
                templates[data["candidateId"]] = data["prompt"]["template"]
                assert len(templates[data["candidateId"]]) <= len(templates[data["parentIds"][0]])


async def test_crossover_merges_two_parents_once_the_pool_allows(
    api: Api, services: Services
) -> None:
    events, _ = await _run(
        api,
        services,
        "catalog-assistant",
        mutationTypes=["reflective", "crossover"],
        tuningParams={"strategyWeights": {"crossover": 1000}},
        maxIterations=8,
    )
    crossed = [(d, pool) for d, pool, _ in proposals(events) if d["mutationType"] == "crossover"]
    assert crossed, "crossover never applied"
    scored = {"baseline"} | {
        e["data"]["candidateId"]
        for e in of_type(events, "evaluation_complete")
        if e["data"]["phase"] == "full" and e["data"]["score"] is not None
    }
    for data, pool in crossed:
        assert pool >= 2
        assert len(set(data["parentIds"])) == 2
        assert set(data["parentIds"]) <= scored


async def test_the_default_mix_uses_several_types(api: Api, services: Services) -> None:
    events, _ = await _run(api, services, "catalog-assistant", maxIterations=6)
    kinds = types_of(events)
    assert set(kinds) <= set(MUTATION_TYPES)
    assert len(set(kinds)) >= 4, kinds
    assert kinds.count("reflective") == max(kinds.count(k) for k in set(kinds))  # weight 4


async def test_strategy_weights_can_leave_a_type_out(api: Api, services: Services) -> None:
    events, _ = await _run(
        api,
        services,
        "dates-and-numbers",
        maxIterations=4,
        tuningParams={"strategyWeights": {"reflective": 0}},
    )
    kinds = types_of(events)
    assert kinds
    assert "reflective" not in kinds


async def test_a_dropped_variable_is_restored(
    api: Api, services: Services, scripted: ScriptedProvider
) -> None:
    events, _ = await _run(api, services, "capitals", **SCRIPTED)
    (proposal,) = [e["data"] for e in of_type(events, "mutation_generated")]
    assert proposal["status"] == "kept"
    assert proposal["repairs"] == ["restored the variable {question}"]
    assert proposal["prompt"]["template"].startswith("no variables here")
    assert "{question}" in proposal["prompt"]["template"]
    assert scripted.requests
    assert all(r.model == "scripted" for r in scripted.requests)
    assert "Answer the question." in scripted.requests[0].messages[0].content


async def test_without_preserve_variables_a_dropped_variable_stays_dropped(
    api: Api, services: Services
) -> None:
    events, _ = await _run(api, services, "capitals", **SCRIPTED, preserveVariables=False)
    (proposal,) = [e["data"] for e in of_type(events, "mutation_generated")]
    assert proposal["status"] == "kept"
    assert proposal["repairs"] == []
    assert proposal["prompt"] == {"template": "no variables here"}


@pytest.mark.parametrize(
    ("reply", "status", "repairs", "violation"),
    [
        ("Sorry, I cannot help with that.", "discarded", [], "<prompt>"),
        ("<prompt>\n   \n</prompt>", "discarded", [], "<prompt>"),
        ("```\nAnswer in one word.\n\n{question}\n```", "kept", [], None),
        ("<prompt>Say {foo} then answer {question}</prompt>", "kept", ["escaped '{foo}'"], None),
        ("<prompt>Answer the question.\n\nQuestion: {question}</prompt>", "discarded", [], "same"),
    ],
)
async def test_the_outcome_of_a_reply_is_reported(
    api: Api,
    services: Services,
    scripted: ScriptedProvider,
    reply: str,
    status: str,
    repairs: list[str],
    violation: str | None,
) -> None:
    scripted.reply = reply
    events, results = await _run(api, services, "capitals", **SCRIPTED)
    (proposal,) = [e["data"] for e in of_type(events, "mutation_generated")]
    assert (proposal["status"], proposal["repairs"]) == (status, repairs)
    if violation is None:
        assert proposal["violations"] == []
        assert proposal["prompt"] is not None
        assert "{question}" in proposal["prompt"]["template"]
    else:
        assert proposal["prompt"] is None
        assert len(proposal["violations"]) == 1
        assert violation in proposal["violations"][0]
        assert of_type(events, "evaluation_start")[1:] == []  # only the baseline's
    assert results["status"] == "completed"
    assert results["simulated"] is True


async def test_a_repeated_proposal_is_discarded(
    api: Api, services: Services, scripted: ScriptedProvider
) -> None:
    scripted.reply = "<prompt>Answer in one word.\n\n{question}</prompt>"
    events, _ = await _run(api, services, "capitals", **{**SCRIPTED, "candidatesPerIteration": 3})
    first, *rest = [e["data"] for e in of_type(events, "mutation_generated")]
    assert first["status"] == "kept"
    for later in rest:
        assert later["status"] == "discarded"
        assert later["violations"] == [f"the same prompt as {first['candidateId']}"]


@pytest.mark.parametrize(
    ("reply", "preserve", "status"),
    [
        ("Answer in one word.\n\n{question}", True, "discarded"),
        ("Answer in one word.\n\n{question}", False, "kept"),
        ("# Task\nAnswer in one word.\n\n# Input\n{question}", True, "kept"),
        ("# Goal\nAnswer in one word.\n\n# Input\n{question}", True, "discarded"),
    ],
)
async def test_preserve_structure_keeps_the_headings(
    api: Api,
    services: Services,
    scripted: ScriptedProvider,
    reply: str,
    preserve: bool,
    status: str,
) -> None:
    scripted.reply = f"<prompt>{reply}</prompt>"
    events, _ = await _run(
        api, services, "capitals", template=STRUCTURED, **SCRIPTED, preserveStructure=preserve
    )
    (proposal,) = [e["data"] for e in of_type(events, "mutation_generated")]
    assert proposal["status"] == status
    if status == "discarded":
        assert proposal["violations"] == ["changed the section layout (its # headings)"]
    else:
        assert proposal["prompt"] == {"template": reply}


@pytest.mark.parametrize(("strength", "degree"), [(0.1, "slightly"), (0.9, "substantially")])
async def test_mutation_strength_reaches_the_mutation_model(
    api: Api, services: Services, scripted: ScriptedProvider, strength: float, degree: str
) -> None:
    await _run(api, services, "capitals", **SCRIPTED, mutationStrength=strength)
    assert f"wording {degree}" in scripted.requests[0].messages[0].content


async def test_chat_prompts_rewrite_the_system_message_only(api: Api, services: Services) -> None:
    task = await sample_task(api, "capitals")
    messages = [
        {"role": "system", "content": "Answer the question."},
        {"role": "user", "content": "Question: {question}"},
    ]
    chat = await api.call("POST", "/api/prompts", 201, json={"name": "chat", "messages": messages})
    body = {"promptId": chat["data"]["id"], "datasetId": task.dataset["id"]}
    config = {**task.config, "dryRun": True, "seed": 3}
    job = await api.call("POST", "/api/optimizations", 201, json={**body, "config": config})
    await run_jobs(services)
    events = await all_events(api, job["data"]["id"])
    check_grammar(events)
    kept = [
        e["data"]["prompt"] for e in of_type(events, "mutation_generated") if e["data"]["prompt"]
    ]
    assert kept
    for prompt in kept:
        assert [m["role"] for m in prompt["messages"]] == ["system", "user"]
        assert prompt["messages"][1] == messages[1]
    results = await get_results(api, job["data"]["id"])
    assert results["finalScore"] > results["initialScore"]
    version = (await api.call("GET", f"/api/prompts/{results['resultPromptId']}"))["data"]
    assert version["messages"] == results["bestPrompt"]["messages"]


async def test_without_the_gate_every_kept_candidate_gets_a_full_evaluation(
    api: Api, services: Services
) -> None:
    events, _ = await _run(
        api, services, "dates-and-numbers", maxIterations=2, tuningParams={"gate": False}
    )
    minibatches = [
        e for e in of_type(events, "evaluation_complete") if e["data"]["phase"] == "minibatch"
    ]
    fulls = [e for e in of_type(events, "evaluation_complete") if e["data"]["phase"] == "full"]
    assert minibatches
    assert all(e["data"]["promoted"] is True for e in minibatches)
    assert [e["data"]["candidateId"] for e in fulls] == [
        e["data"]["candidateId"] for e in minibatches
    ]
