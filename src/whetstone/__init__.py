"""Whetstone: self-hosted prompt optimization with every step streamed live.

The SDK's public names are importable from here (``from whetstone import Whetstone``).
They are loaded on first use, so importing ``whetstone`` for the server or the CLI does
not load the clients.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from whetstone.sdk import *  # noqa: F403


def __getattr__(name: str) -> Any:
    if name[:1].isupper():  # the SDK's names are classes; submodules are lower case
        sdk = importlib.import_module("whetstone.sdk")
        if name in sdk.__all__:
            return getattr(sdk, name)
    raise AttributeError(f"module 'whetstone' has no attribute {name!r}")
