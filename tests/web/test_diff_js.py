"""Runs the dashboard's JavaScript unit tests for lib/diff.js under `node --test`.

Skipped when `node` is not installed, unless WHETSTONE_REQUIRE_NODE=1 (then it fails).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

TEST_FILE = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "whetstone"
    / "web"
    / "static"
    / "lib"
    / "test"
    / "diff.test.mjs"
)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("WHETSTONE_REQUIRE_NODE") == "1":
            pytest.fail("node is not installed and WHETSTONE_REQUIRE_NODE=1")
        pytest.skip("node is not installed (set WHETSTONE_REQUIRE_NODE=1 to make this a failure)")
    return node


def test_diff_js_unit_tests_pass() -> None:
    node = _node()
    assert TEST_FILE.is_file(), TEST_FILE
    proc = subprocess.run(
        [node, "--test", TEST_FILE.name],
        cwd=TEST_FILE.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"node --test failed:\n{proc.stdout}\n{proc.stderr}"
    assert "# fail 0" in proc.stdout, proc.stdout
