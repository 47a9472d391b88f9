"""The browser tests' server: a real Whetstone server (runner on, fresh data dir) on a
background thread with its own event loop, behind a TCP proxy that can cut every
connection, plus helpers to create data through the Python SDK."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.sdk.proxy import TcpProxy, tcp_proxy
from tests.support.live import live_server
from whetstone import Whetstone
from whetstone.samples import load_sample
from whetstone.sdk import Job, Results
from whetstone.server.app import build_services
from whetstone.server.services import Services
from whetstone.settings import Settings

T = TypeVar("T")

START_TIMEOUT = 30.0
SAMPLE = "dates-and-numbers"
# A dry run paced so a browser can watch it: each simulated call takes SIM_LATENCY_MS.
SIM_LATENCY_MS = 50


def slow_config(
    iterations: int = 4, latency_ms: int = SIM_LATENCY_MS, **extra: Any
) -> dict[str, Any]:
    """A simulated job config (the sample's, two candidates per iteration, seed 1)."""
    return {
        **load_sample(SAMPLE)["config"],
        "dryRun": True,
        "maxIterations": iterations,
        "candidatesPerIteration": 2,
        "seed": 1,
        "tuningParams": {"simLatencyMs": latency_ms},
        **extra,
    }


class WebServer:
    """``url`` is what the browser loads (through the proxy); ``direct_url`` bypasses it.
    ``api_key`` is a key of workspace ``default``; ``client`` a blocking SDK client on it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.api_key = ""
        self.url = ""
        self.direct_url = ""
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="web-test-server", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._proxy: TcpProxy | None = None
        self._services: Services | None = None
        self._error: BaseException | None = None
        self._client: Whetstone | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> WebServer:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT) or self._error is not None:
            raise RuntimeError(f"the test server did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(START_TIMEOUT)
        if self._thread.is_alive():
            raise RuntimeError("the test server did not stop")

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._error = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        settings = Settings(data_dir=self.data_dir, secret_key="web-test-secret-0123456789")
        services = self._services = build_services(settings, run_jobs=True)
        await services.store.start()
        try:
            workspace = await services.store.keys.ensure_workspace("default")
            _, self.api_key = await services.store.keys.create_key(workspace.id, "web tests")
            async with live_server(services) as live, tcp_proxy(live.port) as proxy:
                self._proxy = proxy
                self.direct_url = live.http
                self.url = proxy.url
                self._loop = asyncio.get_running_loop()
                self._stop = asyncio.Event()
                self._ready.set()
                await self._stop.wait()
        finally:
            await services.stop()

    # -- on the server's loop ------------------------------------------------------------

    def run(self, make: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
        """Await ``make()`` on the server's event loop, from the test's thread."""
        assert self._loop is not None

        async def call() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout)

    def cut_connections(self) -> int:
        """Abort every connection through the proxy (the browser's WebSocket and HTTP), as a
        network failure would; new connections go through again at once."""
        proxy = self._proxy
        assert proxy is not None

        async def cut() -> int:
            return proxy.cut()

        return self.run(cut)

    def refuse_connections(self) -> None:
        """The proxy closes every new connection at once (the server looks down)."""
        self._retarget(None)

    def accept_connections(self) -> None:
        """The proxy forwards new connections again."""
        self._retarget(int(self.direct_url.rsplit(":", 1)[1]))

    def _retarget(self, port: int | None) -> None:
        proxy = self._proxy
        assert proxy is not None

        async def retarget() -> None:
            proxy.target_port = port

        self.run(retarget)

    @property
    def services(self) -> Services:
        assert self._services is not None
        return self._services

    # -- data through the SDK --------------------------------------------------------------

    @property
    def client(self) -> Whetstone:
        if self._client is None:
            self._client = Whetstone(self.direct_url, self.api_key, trust_env=False)
        return self._client

    def create_prompt(self, template: str | None = None, name: str | None = None) -> str:
        sample = load_sample(SAMPLE)
        prompt = self.client.prompts.create(
            name or f"{SAMPLE}-{uuid.uuid4().hex[:8]}",
            template=template or sample["prompt"]["template"],
            description=sample["description"],
        )
        return prompt.id

    def create_dataset(
        self, items: list[dict[str, Any]] | None = None, name: str | None = None
    ) -> str:
        sample = load_sample(SAMPLE)
        dataset = self.client.datasets.create(
            name or f"{SAMPLE}-{uuid.uuid4().hex[:8]}",
            description=sample["description"],
            items=items if items is not None else sample["dataset"]["items"],
        )
        return dataset.id

    def start_job(
        self, prompt_id: str, dataset_id: str, config: dict[str, Any] | None = None
    ) -> Job:
        return self.client.optimization.start(prompt_id, dataset_id, config or slow_config())

    def wait_job(self, job_id: str, timeout: float = 60.0) -> Results | None:
        """Block until the job ends (its Results, or None if it did not complete)."""
        with self.client.optimization.subscribe(job_id, _ignore, after_event_id=0) as sub:
            try:
                return sub.wait(timeout)
            except Exception:
                if not sub.done:
                    raise
                return None

    def events(self, job_id: str) -> list[dict[str, Any]]:
        """Every stored event of the job, as wire dicts."""
        events: list[dict[str, Any]] = []
        after = 0
        while True:
            response = self.http(
                "GET",
                f"/api/optimizations/{job_id}/events",
                params={"afterEventId": after, "limit": 5000},
            )
            body = response.json()
            events += body["data"]
            if not body["meta"]["hasMore"]:
                return events
            after = events[-1]["id"]

    def http(self, method: str, path: str, *, key: str | None = None, **kw: Any) -> httpx.Response:
        """A raw REST call straight to the server (with ``key``, default the test key; ``""``
        for none)."""
        key = self.api_key if key is None else key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        with httpx.Client(base_url=self.direct_url, trust_env=False, timeout=30) as http:
            return http.request(method, path, headers=headers, **kw)

    def login_link(self, next_path: str | None = None) -> str:
        """A one-time login link through the proxy (as the browser sees the server)."""
        body = {"next": next_path} if next_path else None
        response = self.http("POST", "/api/auth/login-links", json=body)
        assert response.status_code == 201, response.text
        url: str = response.json()["data"]["url"]
        return url.replace(self.direct_url, self.url, 1)


def _ignore(_: object) -> None:
    pass


def seed(web_server: WebServer) -> tuple[str, str]:
    """A prompt and a dataset (the ``dates-and-numbers`` sample) in the server: their ids."""
    return web_server.create_prompt(), web_server.create_dataset()
