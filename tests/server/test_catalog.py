"""``GET /api/models`` and ``GET /api/metrics``: what the server can run, which keys are set
(never the keys themselves), the prices with the settings' overrides; and that a job may
name exactly the providers listed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.server.helpers import assert_error
from tests.support.api import Api
from tests.support.provider_env import clear_provider_environment
from whetstone.settings import Settings

SETTINGS_KEY = "sk-settings-secret-0123456789"
ENVIRON_KEY = "sk-ant-environ-secret-0123456789"
BUILTIN_METRICS = {
    "exact_match",
    "contains",
    "regex",
    "json_match",
    "token_f1",
    "semantic_similarity",
    "g_eval",
}


@pytest.fixture(autouse=True)
def provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_provider_environment(monkeypatch)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings(
    settings: Settings, settings_overrides: dict[str, Any], provider_environment: None
) -> Settings:
    catalog = {
        "openai_api_key": SETTINGS_KEY,
        "default_model": "anthropic/claude-haiku-4-5",
        "prices": {"openai/my-finetune": (0.3, 1.2), "openai/gpt-4o-mini": (9.0, 10.0)},
    }
    return Settings.model_validate({**settings.model_dump(), **catalog, **settings_overrides})


async def _models(api: Api) -> tuple[dict[str, Any], str]:
    """The data of GET /api/models, its providers by name, and the whole body as text."""
    response = await api.client.get("/api/models", headers=api.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    data["providers"] = {p["name"]: p for p in data["providers"]}
    return data, response.text


async def test_models_say_which_keys_are_set_and_never_show_one(api: Api) -> None:
    data, text = await _models(api)

    assert data["defaultModel"] == "anthropic/claude-haiku-4-5"
    providers = data["providers"]
    assert set(providers) == {"openai", "anthropic", "sim"}
    assert providers["openai"] == {
        "name": "openai",
        "builtin": True,
        "baseUrl": "https://api.openai.com/v1",
        "keyRequired": True,
        "keySet": True,
        "keySource": "WHETSTONE_OPENAI_API_KEY",
        "keyVariables": ["WHETSTONE_OPENAI_API_KEY", "OPENAI_API_KEY"],
        "ready": True,
    }
    assert providers["anthropic"] == {
        "name": "anthropic",
        "builtin": True,
        "baseUrl": "https://api.anthropic.com",
        "keyRequired": True,
        "keySet": False,
        "keySource": None,
        "keyVariables": ["WHETSTONE_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"],
        "ready": False,
    }
    sim = providers["sim"]
    assert (sim["builtin"], sim["keyRequired"], sim["keySet"], sim["ready"]) == (
        True,
        False,
        False,
        True,
    )
    assert SETTINGS_KEY not in text
    assert SETTINGS_KEY[3:-3] not in text


async def test_a_key_from_the_environment_is_named_by_its_variable(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", f" {ENVIRON_KEY}\n")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://proxy.internal:8080/")
    data, text = await _models(api)

    anthropic = data["providers"]["anthropic"]
    assert (anthropic["keySet"], anthropic["keySource"], anthropic["ready"]) == (
        True,
        "ANTHROPIC_API_KEY",
        True,
    )
    assert anthropic["baseUrl"] == "http://proxy.internal:8080"
    assert ENVIRON_KEY not in text


async def test_a_blank_key_is_no_key(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "  \n")
    data, _ = await _models(api)
    assert data["providers"]["anthropic"]["keySet"] is False
    assert data["providers"]["anthropic"]["ready"] is False


@pytest.mark.parametrize(
    "settings_overrides",
    [{"openai_base_url": "http://localhost:11434/v1", "openai_api_key": None}],
)
async def test_a_local_openai_compatible_server_needs_no_key(api: Api) -> None:
    data, _ = await _models(api)
    openai = data["providers"]["openai"]
    assert openai["baseUrl"] == "http://localhost:11434/v1"
    assert (openai["keyRequired"], openai["keySet"], openai["ready"]) == (False, False, True)


async def test_prices_are_the_built_in_table_with_the_settings_overrides(api: Api) -> None:
    data, _ = await _models(api)
    prices = data["prices"]

    assert prices["openai/gpt-4o"] == {"inputPerMtok": 2.5, "outputPerMtok": 10.0}
    assert prices["openai/gpt-4o-mini"] == {"inputPerMtok": 9.0, "outputPerMtok": 10.0}
    assert prices["openai/my-finetune"] == {"inputPerMtok": 0.3, "outputPerMtok": 1.2}
    assert prices["anthropic/claude-haiku-4-5"] == {"inputPerMtok": 1.0, "outputPerMtok": 5.0}
    assert list(prices) == sorted(prices)


async def test_metrics_list_the_built_ins(api: Api) -> None:
    body = await api.call("GET", "/api/metrics")
    rows = {row["name"]: row for row in body["data"]}

    assert set(rows) >= BUILTIN_METRICS
    assert body["meta"] == {"total": len(rows), "limit": len(rows), "offset": 0, "hasMore": False}
    for name in BUILTIN_METRICS:
        assert rows[name]["builtin"] is True
        assert isinstance(rows[name]["description"], str)
    assert rows["exact_match"]["needsExpectedOutput"] is True
    assert rows["g_eval"]["needsExpectedOutput"] is False


async def test_every_built_in_metric_has_a_description(api: Api) -> None:
    rows = (await api.call("GET", "/api/metrics"))["data"]
    empty = [
        row["name"] for row in rows if row["name"] in BUILTIN_METRICS and not row["description"]
    ]
    assert empty == []


@pytest.mark.parametrize("path", ["/api/models", "/api/metrics"])
async def test_the_catalog_needs_a_key(client: httpx.AsyncClient, path: str) -> None:
    assert_error(await client.get(path), 401, "unauthorized")
    assert_error(await client.get(path, headers={"x-api-key": "wrong"}), 401, "unauthorized")


@pytest.mark.parametrize("field", ["model", "taskModel", "mutationModel", "judgeModel"])
async def test_a_job_may_name_the_listed_providers_and_no_other(api: Api, field: str) -> None:
    data, _ = await _models(api)
    prompt = await api.prompt("Answer: {question}")
    dataset = await api.dataset()
    ids = {"promptId": prompt["id"], "datasetId": dataset["id"]}
    for name in data["providers"]:
        body = {**ids, "config": {field: f"{name}/some-model"}}
        await api.call("POST", "/api/optimizations", 201, json=body)

    body = {**ids, "config": {field: "acme/some-model"}}
    response = await api.client.post("/api/optimizations", json=body, headers=api.headers)
    error = assert_error(response, 400, "invalid_request", f"config.{field}")
    assert "unknown provider 'acme'" in error["message"]
    assert f"valid: {', '.join(sorted(data['providers']))}" in error["message"]


async def test_an_embeddings_model_of_an_unknown_provider_is_refused(api: Api) -> None:
    prompt = await api.prompt("Answer: {question}")
    dataset = await api.dataset()
    params = {"backend": "provider", "model": "acme/embed"}
    body = {
        "promptId": prompt["id"],
        "datasetId": dataset["id"],
        "config": {"evaluationMetrics": [{"name": "semantic_similarity", "params": params}]},
    }
    response = await api.client.post("/api/optimizations", json=body, headers=api.headers)
    error = assert_error(response, 400, "invalid_request", "config.evaluationMetrics.0.params")
    assert "acme" in error["message"]
