"""``OpenAIProvider`` against the fake server, over real loopback HTTP."""

from __future__ import annotations

import pytest

from tests.support.fake_llm import OPENAI_KEY, FakeLLM, FakeWait, Reply, embedding, fake_llm
from whetstone.errors import ProviderError
from whetstone.providers.base import ChatMessage, CompletionRequest
from whetstone.providers.config import ProviderConfig
from whetstone.providers.errors import (
    ProviderAuthError,
    ProviderConfigError,
    ProviderRequestError,
    ProviderResponseError,
)
from whetstone.providers.openai import OpenAIProvider
from whetstone.providers.retry import RetryPolicy

REQUEST = CompletionRequest(
    model="gpt-4o-mini",
    messages=(
        ChatMessage("system", "Answer briefly."),
        ChatMessage("user", "What is two plus two?"),
    ),
    temperature=0.3,
    max_tokens=50,
    hints={"role": "task", "expected": "4"},
)


def provider_at(url: str, key: str | None, policy: RetryPolicy) -> OpenAIProvider:
    return OpenAIProvider(ProviderConfig(url, key, retry=policy), environ={})


async def test_sends_the_chat_completions_request(openai: OpenAIProvider, fake: FakeLLM) -> None:
    await openai.complete(REQUEST)

    [sent] = fake.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert sent.headers["content-type"] == "application/json"
    assert sent.body == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": "What is two plus two?"},
        ],
        "temperature": 0.3,
        "max_tokens": 50,
    }


async def test_leaves_max_tokens_out_when_the_request_has_none(
    openai: OpenAIProvider, fake: FakeLLM
) -> None:
    await openai.complete(CompletionRequest("m", (ChatMessage("user", "hi"),)))
    assert "max_tokens" not in fake.requests[0].body


async def test_reads_the_text_and_the_usage(openai: OpenAIProvider) -> None:
    completion = await openai.complete(REQUEST)

    assert completion.text == "echo: What is two plus two?"
    assert completion.input_tokens == 7  # words of both messages
    assert completion.output_tokens == 6
    assert completion.model == "gpt-4o-mini"
    assert (openai.attempts, openai.retries) == (1, 0)


async def test_missing_usage_counts_zero_tokens(policy: RetryPolicy) -> None:
    async with fake_llm(usage=False) as fake:
        provider = OpenAIProvider(
            ProviderConfig(fake.openai_url, OPENAI_KEY, retry=policy), environ={}
        )
        completion = await provider.complete(REQUEST)
        await provider.close()
    assert (completion.input_tokens, completion.output_tokens) == (0, 0)


async def test_a_local_server_needs_no_key_and_gets_no_authorization(
    policy: RetryPolicy,
) -> None:
    async with fake_llm(require_openai_key=False) as fake:
        provider = provider_at(fake.openai_url, None, policy)
        completion = await provider.complete(REQUEST)
        await provider.close()
    assert completion.text == "echo: What is two plus two?"
    assert "authorization" not in fake.requests[0].headers


@pytest.mark.parametrize("environ", [{}, {"OPENAI_API_KEY": " \n"}])
def test_api_openai_com_needs_a_key_and_the_error_names_the_variables(
    environ: dict[str, str],
) -> None:
    with pytest.raises(ProviderConfigError) as caught:
        OpenAIProvider(ProviderConfig(), environ=environ)
    assert "set OPENAI_API_KEY or WHETSTONE_OPENAI_API_KEY" in str(caught.value)
    assert isinstance(caught.value, ProviderError)
    assert caught.value.code == "provider_error"


async def test_key_and_base_url_from_the_environment(fake: FakeLLM, policy: RetryPolicy) -> None:
    environ = {"OPENAI_API_KEY": f" {OPENAI_KEY}\n", "OPENAI_BASE_URL": fake.openai_url + "/"}
    provider = OpenAIProvider(ProviderConfig(retry=policy), environ=environ)
    await provider.complete(REQUEST)
    await provider.close()
    assert provider.base_url == fake.openai_url
    assert fake.requests[0].headers["authorization"] == f"Bearer {OPENAI_KEY}"


async def test_the_configured_key_wins_over_the_environment(
    fake: FakeLLM, policy: RetryPolicy
) -> None:
    environ = {"OPENAI_API_KEY": "sk-from-env", "OPENAI_BASE_URL": "http://elsewhere.invalid"}
    provider = OpenAIProvider(
        ProviderConfig(fake.openai_url, OPENAI_KEY, retry=policy), environ=environ
    )
    await provider.complete(REQUEST)
    await provider.close()
    assert fake.requests[0].headers["authorization"] == f"Bearer {OPENAI_KEY}"


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ProviderConfigError, match="OPENAI_BASE_URL or WHETSTONE_OPENAI_BASE_URL"):
        OpenAIProvider(ProviderConfig("localhost:11434/v1", "k"), environ={})


async def test_a_wrong_key_is_an_auth_error_tried_once(fake: FakeLLM, policy: RetryPolicy) -> None:
    provider = OpenAIProvider(
        ProviderConfig(fake.openai_url, "sk-wrong-key", retry=policy), environ={}
    )
    with pytest.raises(ProviderAuthError) as caught:
        await provider.complete(REQUEST)
    await provider.close()

    message = str(caught.value)
    assert message.startswith("openai rejected the API key (HTTP 401")
    assert "Incorrect API key provided" in message
    assert "OPENAI_API_KEY or WHETSTONE_OPENAI_API_KEY" in message
    assert caught.value.provider_status == 401
    assert not caught.value.retryable
    assert (provider.attempts, provider.retries) == (1, 0)


async def test_a_bad_request_is_not_retried_and_keeps_the_providers_message(
    openai: OpenAIProvider, fake: FakeLLM, fake_wait: FakeWait
) -> None:
    fake.push(Reply(400, "The model `nope` does not exist"))
    with pytest.raises(ProviderRequestError) as caught:
        await openai.complete(REQUEST)

    assert "The model `nope` does not exist" in str(caught.value)
    assert "openai refused the request (HTTP 400" in str(caught.value)
    assert openai.attempts == 1
    assert fake_wait.waits == []


async def test_the_key_never_appears_in_an_error(openai: OpenAIProvider, fake: FakeLLM) -> None:
    fake.push(Reply(400, f"the key {OPENAI_KEY} may not use this model"))
    with pytest.raises(ProviderRequestError) as caught:
        await openai.complete(REQUEST)
    assert "the key *** may not use this model" in str(caught.value)
    assert OPENAI_KEY not in repr(caught.value.to_body())


async def test_the_fake_server_refuses_a_request_without_messages(
    openai: OpenAIProvider,
) -> None:
    with pytest.raises(ProviderRequestError, match="messages: Field required"):
        await openai.complete(CompletionRequest("gpt-4o-mini", ()))


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ({"choices": []}, "missing choices[0]"),
        ({"choices": [{"message": {"role": "assistant"}}]}, "missing choices[0].message.content"),
        ({"choices": [{"message": {"content": 7}}]}, "choices[0].message.content is not text"),
        ({"object": "list"}, "missing choices"),
        (["not", "an", "object"], "expected a JSON object, got list"),
    ],
)
async def test_a_malformed_body_names_the_provider_and_the_field(
    openai: OpenAIProvider, fake: FakeLLM, body: object, what: str
) -> None:
    fake.push(Reply(body=body))
    with pytest.raises(ProviderResponseError) as caught:
        await openai.complete(REQUEST)
    assert str(caught.value) == f"openai returned a malformed response: {what}"
    assert openai.attempts == 1


async def test_a_body_that_is_not_json_is_malformed(openai: OpenAIProvider, fake: FakeLLM) -> None:
    fake.push(Reply(text="<html>gateway</html>"))
    with pytest.raises(ProviderResponseError, match="not JSON: <html>gateway</html>"):
        await openai.complete(REQUEST)


async def test_a_bad_usage_value_is_malformed(openai: OpenAIProvider, fake: FakeLLM) -> None:
    body = {"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": "many"}}
    fake.push(Reply(body=body))
    with pytest.raises(ProviderResponseError, match=r"usage\.prompt_tokens"):
        await openai.complete(REQUEST)


async def test_embed_returns_one_vector_per_text_in_order(
    openai: OpenAIProvider, fake: FakeLLM
) -> None:
    texts = ["the cat sat", "a dog ran", "the cat sat"]
    vectors = await openai.embed("text-embedding-3-small", texts)

    assert vectors == [embedding(t) for t in texts]
    [sent] = fake.requests
    assert sent.path == "/v1/embeddings"
    assert sent.body == {"model": "text-embedding-3-small", "input": texts}


async def test_embed_orders_by_index(openai: OpenAIProvider, fake: FakeLLM) -> None:
    data = [{"index": 1, "embedding": [0.0, 1.0]}, {"index": 0, "embedding": [1, 0]}]
    fake.push(Reply(body={"data": data}))
    assert await openai.embed("m", ["first", "second"]) == [[1.0, 0.0], [0.0, 1.0]]


async def test_embed_of_nothing_makes_no_call(openai: OpenAIProvider, fake: FakeLLM) -> None:
    assert await openai.embed("m", []) == []
    assert fake.requests == []


@pytest.mark.parametrize(
    ("data", "what"),
    [
        ([{"index": 0, "embedding": [1.0]}], "expected 2 embeddings in data, got 1"),
        (
            [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}],
            "data[1].index is not a new index: 0",
        ),
        (
            [{"index": 0, "embedding": [1.0]}, {"index": 1, "embedding": "x"}],
            "data[1].embedding is not a list of numbers",
        ),
    ],
)
async def test_embed_refuses_a_malformed_answer(
    openai: OpenAIProvider, fake: FakeLLM, data: object, what: str
) -> None:
    fake.push(Reply(body={"data": data}))
    with pytest.raises(ProviderResponseError) as caught:
        await openai.embed("m", ["a", "b"])
    assert str(caught.value) == f"openai returned a malformed response: {what}"
