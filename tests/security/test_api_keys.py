"""API keys are stored as an HMAC-SHA256 under the server secret and compared in constant
time: the store never holds a key, and a key made under another secret does not work."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.support.api import Api
from whetstone.clock import ManualClock
from whetstone.server.app import build_services, create_app
from whetstone.server.services import Services
from whetstone.settings import Settings
from whetstone.store.sql import SQLStore
from whetstone.store.tables import api_keys


async def _status(services: Services, key: str) -> int:
    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/api/prompts", headers={"Authorization": f"Bearer {key}"})
    return response.status_code


def _secret(api: Api) -> str:
    return str(api.headers["Authorization"]).removeprefix("Bearer ")


async def test_the_store_holds_only_an_hmac_of_the_key(
    api: Api, services: Services, settings: Settings
) -> None:
    key = _secret(api)
    assert isinstance(services.store, SQLStore)
    async with services.store.db.read() as conn:
        rows = (await conn.execute(select(api_keys))).all()
    assert rows
    for row in rows:
        for value in row:
            text = str(value)
            assert key not in text
            assert key.split("_", 2)[2] not in text  # not even the secret part
    assert settings.secret_key is not None
    digest = hmac.new(settings.secret_key.encode(), key.encode(), hashlib.sha256).hexdigest()
    assert digest in {row.key_hash for row in rows}
    assert hashlib.sha256(key.encode()).hexdigest() not in {row.key_hash for row in rows}


async def test_keys_are_compared_with_compare_digest(
    api: Api, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    key = _secret(api)
    assert await services.store.keys.authenticate(key) is not None
    wrong = key[:-1] + ("A" if key[-1] != "A" else "B")  # same lookup prefix, wrong secret
    assert await services.store.keys.authenticate(wrong) is None
    assert len(calls) == 2
    assert all(len(a) == len(b) == 64 for a, b in calls)  # digests, never the keys
    assert all(key not in a + b and wrong not in a + b for a, b in calls)


async def test_a_key_made_under_another_secret_does_not_authenticate(
    tmp_path: Path, clock: ManualClock
) -> None:
    data = tmp_path / "data"

    def services(secret: str) -> Services:
        settings = Settings(data_dir=data, secret_key=secret, run_jobs=False)
        return build_services(settings, clock=clock)

    first = services("first-server-secret-0123456789")
    await first.store.start()
    workspace = await first.store.keys.ensure_workspace("default")
    _, key = await first.store.keys.create_key(workspace.id)
    assert await _status(first, key) == 200
    await first.stop()

    second = services("another-server-secret-0123456789")  # same database, new secret
    await second.store.start()
    try:
        assert await second.store.keys.authenticate(key) is None
        assert await _status(second, key) == 401
    finally:
        await second.stop()


async def test_without_a_configured_secret_one_is_made_in_the_data_dir(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key=None, run_jobs=False)
    services = build_services(settings, clock=clock)
    await services.store.start()
    try:
        secret_file = tmp_path / "data" / "secret.key"
        assert secret_file.is_file()
        assert secret_file.stat().st_mode & 0o077 == 0  # readable by its owner only
        workspace = await services.store.keys.ensure_workspace("default")
        _, key = await services.store.keys.create_key(workspace.id)
        assert await _status(services, key) == 200
        secret = bytes.fromhex(secret_file.read_text())
        digest = hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()
        assert isinstance(services.store, SQLStore)
        async with services.store.db.read() as conn:
            hashes = (await conn.execute(select(api_keys.c.key_hash))).scalars().all()
        assert digest in hashes
    finally:
        await services.stop()
