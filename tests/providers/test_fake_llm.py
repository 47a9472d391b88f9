"""The fake LLM server refuses what the real services refuse, with their error bodies
(raw HTTP, so that the providers' own requests cannot hide a gap)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.fake_llm import ANTHROPIC_KEY, OPENAI_KEY, FakeLLM

ANTHROPIC_HEADERS = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
MESSAGES = [{"role": "user", "content": "hi"}]


async def post(url: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.post(url, json=body, headers=headers)


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        ({}, 401, {"type": "authentication_error", "message": "x-api-key header is required"}),
        (
            {"x-api-key": "nope"},
            401,
            {"type": "authentication_error", "message": "invalid x-api-key"},
        ),
        (
            {"x-api-key": ANTHROPIC_KEY},
            400,
            {"type": "invalid_request_error", "message": "anthropic-version: header is required"},
        ),
    ],
)
async def test_anthropic_checks_its_headers(
    fake: FakeLLM, headers: dict[str, str], status: int, error: dict[str, str]
) -> None:
    body = {"model": "m", "messages": MESSAGES, "max_tokens": 5}
    response = await post(f"{fake.anthropic_url}/v1/messages", body, headers)
    assert response.status_code == status
    assert response.json() == {"type": "error", "error": error}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"model": "m", "messages": MESSAGES}, "max_tokens: Field required"),
        ({"messages": MESSAGES, "max_tokens": 5}, "model: Field required"),
        ({"model": "m", "max_tokens": 5}, "messages: Field required"),
        (
            {"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]},
            "messages.0.role: Input should be 'user' or 'assistant'",
        ),
    ],
)
async def test_anthropic_checks_the_body(fake: FakeLLM, body: Any, message: str) -> None:
    response = await post(f"{fake.anthropic_url}/v1/messages", body, ANTHROPIC_HEADERS)
    assert response.status_code == 400
    assert response.json()["error"] == {"type": "invalid_request_error", "message": message}


async def test_openai_checks_the_key_and_the_body(fake: FakeLLM) -> None:
    url = f"{fake.openai_url}/chat/completions"
    missing = await post(url, {"model": "m", "messages": MESSAGES}, {})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "invalid_api_key"

    auth = {"Authorization": f"Bearer {OPENAI_KEY}"}
    no_model = await post(url, {"messages": MESSAGES}, auth)
    assert no_model.status_code == 400
    assert no_model.json()["error"]["type"] == "invalid_request_error"

    no_input = await post(f"{fake.openai_url}/embeddings", {"model": "m"}, auth)
    assert no_input.status_code == 400
    assert len(fake.requests) == 3
