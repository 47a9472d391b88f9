"""Runner tests run the placeholder engine through a scripted hook (see ``Steps``)."""

from __future__ import annotations

import pytest

from tests.runner.helpers import Steps
from tests.support.engines import hooked
from whetstone.engine.base import EngineFactory


@pytest.fixture
def steps() -> Steps:
    return Steps()


@pytest.fixture
def engine_factory(steps: Steps) -> EngineFactory:
    return hooked(steps.hook)
