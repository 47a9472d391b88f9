"""Small helpers over the REST API for tests (not an SDK: each call asserts its status code)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


class Api:
    """Small helpers over the REST API for tests (not an SDK: asserts the status code)."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def call(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        response = await self.client.request(method, path, headers=self.headers, **kw)
        assert response.status_code == status, response.text
        return response.json()

    async def prompt(self, template: str = "Answer the question: {question}", **kw: Any) -> Any:
        name = kw.pop("name", f"p-{uuid.uuid4().hex[:12]}")
        body = {"name": name, "template": template, **kw}
        return (await self.call("POST", "/api/prompts", 201, json=body))["data"]

    async def dataset(self, items: list[dict[str, Any]] | None = None, **kw: Any) -> Any:
        items = (
            items
            if items is not None
            else [
                {"input": {"question": "2+2"}, "expectedOutput": "4"},
                {"input": {"question": "capital of France"}, "expectedOutput": "Paris"},
            ]
        )
        body = {"name": kw.pop("name", "ds"), "items": items, **kw}
        return (await self.call("POST", "/api/datasets", 201, json=body))["data"]

    async def job(self, config: dict[str, Any] | None = None) -> Any:
        prompt = await self.prompt()
        dataset = await self.dataset()
        body = {
            "promptId": prompt["id"],
            "datasetId": dataset["id"],
            "config": config if config is not None else {"maxIterations": 3, "dryRun": True},
        }
        return (await self.call("POST", "/api/optimizations", 201, json=body))["data"]

    async def events(self, job_id: str, after: int = 0) -> list[dict[str, Any]]:
        body = await self.call("GET", f"/api/optimizations/{job_id}/events?afterEventId={after}")
        events: list[dict[str, Any]] = body["data"]
        return events
