"""Fixtures of the browser tests (docs/web.md).

- ``web_server``: a real Whetstone server on a free loopback port with a fresh data dir,
  reached through a TCP proxy that can cut connections (``tests/web/support.py``).
- ``browser`` (session): Debian's Chromium driven by Playwright's sync API. Skipped when
  Playwright or Chromium is missing, unless ``WHETSTONE_REQUIRE_BROWSER=1`` (then it fails).
- ``page``: a fresh context and page, signed in (the key in localStorage), whose console
  errors and page errors fail the test at teardown; ``anon_page`` is the same, signed out.
- ``console``: that recorder; ``console.allow(regex)`` accepts an expected error.
- ``seed``: ``seed(web_server) -> (prompt_id, dataset_id)``.

The tests are plain sync functions: Playwright's sync API cannot run inside an asyncio
test, and the server runs on its own thread and loop. Once the sync API has started it
keeps an event loop marked running on the main thread until the session ends, so no
asyncio test can run after it: the tests that use the browser are moved to the end of the
run (``pytest_collection_modifyitems`` below), in their own order.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.web.support import WebServer
from tests.web.support import seed as seed_helper

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

CHROMIUM = os.environ.get("WHETSTONE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KEY_STORAGE = "whetstone.apiKey"  # static/app.js
TIMEOUT_MS = 15_000  # every Playwright wait and expect()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    uses_browser = [i for i in items if "browser" in getattr(i, "fixturenames", ())]
    if uses_browser:
        moved = set(uses_browser)
        items[:] = [i for i in items if i not in moved] + uses_browser


def _missing_browser() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed (python -m pip install -e '.[dev]')"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set WHETSTONE_CHROMIUM)"
    return None


class ConsoleLog:
    """Console errors and uncaught page errors of the pages it watches."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._allowed: list[re.Pattern[str]] = []

    def allow(self, pattern: str) -> None:
        """Accept errors matching ``pattern`` (e.g. the 401 a failed login logs)."""
        self._allowed.append(re.compile(pattern))

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.errors.append(f"console error: {message.text} ({where})")

    @property
    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self._allowed)]


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[WebServer]:
    server = WebServer(tmp_path / "data").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    reason = _missing_browser()
    if reason is not None:
        if os.environ.get("WHETSTONE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"WHETSTONE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


def _storage(web_server: WebServer, signed_in: bool) -> dict[str, Any]:
    local = [{"name": KEY_STORAGE, "value": web_server.api_key}] if signed_in else []
    return {"cookies": [], "origins": [{"origin": web_server.url, "localStorage": local}]}


@pytest.fixture
def new_page(
    browser: Browser, web_server: WebServer, console: ConsoleLog
) -> Iterator[Callable[..., Page]]:
    """``new_page(signed_in=True)``: a page in a fresh browser context, watched by
    ``console``; every one is closed, and the console checked, at teardown."""
    contexts: list[BrowserContext] = []

    def make(signed_in: bool = True) -> Page:
        context = browser.new_context(
            base_url=web_server.url,
            storage_state=_storage(web_server, signed_in),  # type: ignore[arg-type]
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        made = context.new_page()
        console.watch(made)
        return made

    yield make
    for context in contexts:
        context.close()
    assert not console.unexpected, "\n".join(console.unexpected)


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page(signed_in=True)


@pytest.fixture
def anon_page(new_page: Callable[..., Page]) -> Page:
    return new_page(signed_in=False)


@pytest.fixture
def seed() -> Callable[[WebServer], tuple[str, str]]:
    return seed_helper
