"""``AnthropicProvider`` against the fake server, over real loopback HTTP."""

from __future__ import annotations

import pytest

from tests.support.fake_llm import ANTHROPIC_KEY, FakeLLM, Reply
from whetstone.providers.anthropic import (
    API_VERSION,
    DEFAULT_MAX_TOKENS,
    AnthropicProvider,
    messages_body,
)
from whetstone.providers.base import ChatMessage, CompletionRequest
from whetstone.providers.config import ProviderConfig
from whetstone.providers.errors import (
    ProviderAuthError,
    ProviderConfigError,
    ProviderRequestError,
    ProviderResponseError,
)
from whetstone.providers.retry import RetryPolicy

REQUEST = CompletionRequest(
    model="claude-haiku-4-5",
    messages=(
        ChatMessage("system", "Answer briefly."),
        ChatMessage("user", "What is two plus two?"),
        ChatMessage("assistant", "Four."),
        ChatMessage("system", "Use digits."),
        ChatMessage("user", "Again, please."),
    ),
    temperature=0.2,
    max_tokens=64,
)


async def test_sends_the_messages_request(anthropic: AnthropicProvider, fake: FakeLLM) -> None:
    await anthropic.complete(REQUEST)

    [sent] = fake.requests
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == ANTHROPIC_KEY
    assert sent.headers["anthropic-version"] == API_VERSION == "2023-06-01"
    assert sent.headers["content-type"] == "application/json"
    assert "authorization" not in sent.headers
    assert sent.body == {
        "model": "claude-haiku-4-5",
        "system": "Answer briefly.\n\nUse digits.",
        "messages": [
            {"role": "user", "content": "What is two plus two?"},
            {"role": "assistant", "content": "Four."},
            {"role": "user", "content": "Again, please."},
        ],
        "max_tokens": 64,
        "temperature": 0.2,
    }


async def test_reads_the_text_and_the_usage(anthropic: AnthropicProvider) -> None:
    completion = await anthropic.complete(REQUEST)

    assert completion.text == "echo: Again, please."
    assert completion.input_tokens == 4 + 5 + 1 + 2  # the words of system, then of messages
    assert completion.output_tokens == 3
    assert completion.model == "claude-haiku-4-5"


def test_max_tokens_defaults_and_no_system_means_no_system_field() -> None:
    body = messages_body(CompletionRequest("m", (ChatMessage("user", "hi"),)))
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS == 1024
    assert "system" not in body


async def test_a_request_without_max_tokens_gets_the_default(
    anthropic: AnthropicProvider, fake: FakeLLM
) -> None:
    completion = await anthropic.complete(CompletionRequest("m", (ChatMessage("user", "hi"),)))
    assert completion.text == "echo: hi"
    assert fake.requests[0].body["max_tokens"] == DEFAULT_MAX_TOKENS


async def test_joins_the_text_blocks_and_skips_the_others(
    anthropic: AnthropicProvider, fake: FakeLLM
) -> None:
    content = [
        {"type": "thinking", "thinking": "hmm", "signature": "s"},
        {"type": "text", "text": "Four"},
        {"type": "text", "text": " (4)."},
    ]
    fake.push(Reply(body={"content": content, "usage": {"input_tokens": 9, "output_tokens": 4}}))
    completion = await anthropic.complete(REQUEST)
    assert (completion.text, completion.input_tokens, completion.output_tokens) == (
        "Four (4).",
        9,
        4,
    )


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ({"type": "message"}, "missing content"),
        ({"content": "Four"}, "content is not a list of blocks"),
        ({"content": [{"type": "text"}]}, "content[0].text is not text"),
    ],
)
async def test_a_malformed_body_names_the_provider_and_the_field(
    anthropic: AnthropicProvider, fake: FakeLLM, body: object, what: str
) -> None:
    fake.push(Reply(body=body))
    with pytest.raises(ProviderResponseError) as caught:
        await anthropic.complete(REQUEST)
    assert str(caught.value) == f"anthropic returned a malformed response: {what}"


def test_a_missing_key_is_an_error_even_for_another_server() -> None:
    config = ProviderConfig("http://127.0.0.1:9/")
    with pytest.raises(ProviderConfigError) as caught:
        AnthropicProvider(config, environ={"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"})
    assert str(caught.value) == (
        "anthropic needs an API key: set ANTHROPIC_API_KEY or WHETSTONE_ANTHROPIC_API_KEY"
    )
    assert caught.value.details == {"provider": "anthropic"}


async def test_key_and_base_url_from_the_environment(fake: FakeLLM, policy: RetryPolicy) -> None:
    environ = {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "ANTHROPIC_BASE_URL": fake.anthropic_url}
    provider = AnthropicProvider(ProviderConfig(retry=policy), environ=environ)
    await provider.complete(REQUEST)
    await provider.close()
    assert fake.requests[0].headers["x-api-key"] == ANTHROPIC_KEY


async def test_a_wrong_key_is_an_auth_error_tried_once(fake: FakeLLM, policy: RetryPolicy) -> None:
    config = ProviderConfig(fake.anthropic_url, "sk-ant-wrong", retry=policy)
    provider = AnthropicProvider(config, environ={})
    with pytest.raises(ProviderAuthError) as caught:
        await provider.complete(REQUEST)
    await provider.close()

    assert str(caught.value) == (
        "anthropic rejected the API key (HTTP 401: authentication_error: invalid x-api-key); "
        "check ANTHROPIC_API_KEY or WHETSTONE_ANTHROPIC_API_KEY"
    )
    assert provider.attempts == 1


async def test_a_bad_request_keeps_the_error_type_and_message(
    anthropic: AnthropicProvider, fake: FakeLLM
) -> None:
    fake.push(Reply(404, "model: claude-nope"))
    with pytest.raises(ProviderRequestError) as caught:
        await anthropic.complete(REQUEST)
    assert str(caught.value) == (
        "anthropic refused the request (HTTP 404: not_found_error: model: claude-nope)"
    )
    assert caught.value.details == {"provider": "anthropic", "providerStatus": 404}
    assert anthropic.attempts == 1


async def test_the_fake_server_checks_the_shape_like_the_real_one(
    anthropic: AnthropicProvider,
) -> None:
    with pytest.raises(ProviderRequestError, match="messages: Field required"):
        await anthropic.complete(CompletionRequest("m", (ChatMessage("system", "only"),)))
