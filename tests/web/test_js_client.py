"""Runs whetstone.js's unit tests (``src/whetstone/web/js/test/``) under ``node --test``.

They use a fake WebSocket, fake timers and a fake fetch: no network, no waiting. Skipped
when ``node`` is not installed, unless ``WHETSTONE_REQUIRE_NODE=1`` (then it fails).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JS_TESTS = Path("src") / "whetstone" / "web" / "js" / "test"


def node_or_skip() -> str:
    """The path of ``node``; skips (or fails with ``WHETSTONE_REQUIRE_NODE=1``) without it."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("WHETSTONE_REQUIRE_NODE") == "1":
            pytest.fail("node is not on PATH and WHETSTONE_REQUIRE_NODE=1", pytrace=False)
        pytest.skip("node is not on PATH (set WHETSTONE_REQUIRE_NODE=1 to make this a failure)")
    return node


def test_whetstone_js_unit_tests_pass() -> None:
    node = node_or_skip()
    files = sorted(str(f.relative_to(ROOT)) for f in (ROOT / JS_TESTS).glob("*.test.mjs"))
    assert files, f"no *.test.mjs in {JS_TESTS}"
    proc = subprocess.run(
        [node, "--test", *files],  # explicit files: node >= 21 reads a directory as a glob
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = f"{proc.stdout}\n{proc.stderr}"
    assert proc.returncode == 0, f"node --test failed:\n{output}"
    passed = re.search(r"^# pass (\d+)$", proc.stdout, flags=re.M)
    assert passed is not None, output
    assert int(passed.group(1)) >= 50, output
    assert re.search(r"^# fail 0$", proc.stdout, flags=re.M), output
