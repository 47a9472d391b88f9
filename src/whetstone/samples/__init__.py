"""Sample tasks for the simulator (``dryRun``): a prompt, a dataset and a config each.

Each item's ``metadata.sim.rules`` names the hidden requirements the simulated model needs
the prompt to state (see ``whetstone.providers.sim.rules``); everything they produce is
simulated. Used by the tests, the benchmark and the demo.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SAMPLES = ("capitals", "dates-and-numbers", "catalog-assistant")


def load_sample(name: str) -> dict[str, Any]:
    if name not in SAMPLES:
        raise KeyError(f"unknown sample {name!r}; samples: {', '.join(SAMPLES)}")
    text = resources.files("whetstone.samples").joinpath(f"{name}.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data
