"""Child processes of the tests (``whetstone serve``, ``whetstone demo``): wait on what they
say, never on a timer."""

from __future__ import annotations

import os
import selectors
import subprocess
import time

import pytest


def read_until(proc: subprocess.Popen[bytes], marker: bytes, timeout: float) -> bytes:
    """``proc``'s stderr up to ``marker``, waiting at most ``timeout`` seconds in all; fails
    the test, with what it said, if the marker does not come or the process exits first."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stderr, selectors.EVENT_READ)
        while marker not in seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                pytest.fail(f"no {marker!r} from the process within {timeout} s: {seen!r}")
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                pytest.fail(f"the process exited early with code {proc.wait()}: {seen!r}")
            seen += chunk
    return seen
