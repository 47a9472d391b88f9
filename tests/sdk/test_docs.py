"""docs/sdk.md's "A whole run" example runs as written against a real server."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.support.live import LiveServer
from whetstone.engine.base import EngineFactory
from whetstone.engine.factory import OptimizerFactory

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


@pytest.fixture
def engine_factory() -> EngineFactory:
    return OptimizerFactory()


def example(title: str) -> str:
    section = DOC.read_text().split(f"## {title}\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match is not None
    return match.group(1)


async def test_the_whole_run_example(
    running_server: LiveServer,
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WHETSTONE_URL", running_server.http)
    monkeypatch.setenv("WHETSTONE_API_KEY", key)
    code = compile(example("A whole run"), str(DOC), "exec")
    await asyncio.to_thread(exec, code, {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("1 job_started 0")
    assert re.search(r"\d+ job_complete", lines[-2])
    assert re.fullmatch(r"[\d.]+ -> [\d.]+ max_iterations", lines[-1])
