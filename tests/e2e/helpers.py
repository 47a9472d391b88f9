"""Jobs through the REST API, run to their end by the real runner within a time bound."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from tests.engine.optimizer_helpers import Event, all_events, get_job
from tests.support.api import Api
from tests.support.role_llm import ITEMS, TEMPLATE
from whetstone.server.services import Services

RUN_BOUND_SECONDS = 20  # a job here takes well under a second

# Two iterations of two rephrasings, scored by exact_match and the g_eval judge: every role
# calls the model, and the first rephrasing beats the baseline.
CONFIG: dict[str, Any] = {
    "maxIterations": 2,
    "candidatesPerIteration": 2,
    "mutationTypes": ["rephrase"],
    "evaluationMetrics": ["exact_match", "g_eval"],
    "seed": 7,
    "concurrency": 4,
    "tuningParams": {"minibatchSize": 2},
}


@dataclass
class Task:
    """A prompt and a dataset of one workspace, to start jobs on."""

    api: Api
    prompt_id: str
    dataset_id: str

    async def start(self, **config: Any) -> str:
        body = {
            "promptId": self.prompt_id,
            "datasetId": self.dataset_id,
            "config": {**CONFIG, **config},
        }
        job = await self.api.call("POST", "/api/optimizations", 201, json=body)
        return str(job["data"]["id"])


async def task(api: Api, items: list[dict[str, Any]] | None = None) -> Task:
    prompt = await api.prompt(TEMPLATE)
    dataset = await api.dataset(ITEMS if items is None else items)
    return Task(api, prompt["id"], dataset["id"])


async def run_jobs(services: Services) -> None:
    assert services.runner is not None, "the services fixture builds a runner"
    async with asyncio.timeout(RUN_BOUND_SECONDS):
        await services.runner.run_until_idle()


@dataclass
class Finished:
    job: dict[str, Any]
    events: list[Event]

    @property
    def usage(self) -> dict[str, Any]:
        usage: dict[str, Any] = self.job["usage"]
        return usage

    @property
    def error(self) -> dict[str, Any]:
        assert self.events[-1]["eventType"] == "job_failed", self.events[-1]
        error: dict[str, Any] = self.events[-1]["data"]["error"]
        return error

    def text(self) -> str:
        """The job and its events as one JSON text (to look for what must not be there)."""
        return json.dumps([self.job, self.events])


async def run(api: Api, services: Services, job_id: str) -> Finished:
    await run_jobs(services)
    return Finished(await get_job(api, job_id), await all_events(api, job_id))


async def run_one(api: Api, services: Services, **config: Any) -> Finished:
    """A job of :data:`CONFIG` (changed by ``config``) on a new task, run to its end."""
    job_id = await (await task(api)).start(**config)
    return await run(api, services, job_id)
