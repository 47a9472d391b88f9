"""The SDK's names are importable from ``whetstone``, and only loaded when first used."""

from __future__ import annotations

import subprocess
import sys

import pytest

import whetstone
from whetstone import sdk


def test_every_public_name_is_exported_from_the_package() -> None:
    for name in sdk.__all__:
        assert getattr(whetstone, name) is getattr(sdk, name)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = whetstone.nothing


def test_importing_the_package_does_not_load_the_sdk() -> None:
    code = (
        "import sys, whetstone; assert 'whetstone.sdk' not in sys.modules; "
        "from whetstone import Whetstone; assert 'whetstone.sdk' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
