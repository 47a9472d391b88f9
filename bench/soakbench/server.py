"""``whetstone serve`` in a child process on a temporary data dir, and its memory."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from types import TracebackType

import httpx

HOST = "127.0.0.1"  # loopback only
START_SECONDS = 60.0
STOP_SECONDS = 30.0
PROVIDER_VARIABLES = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
)


def server_env(jobs: int) -> dict[str, str]:
    """This environment without WHETSTONE_* or provider variables, plus what the soak needs:
    a runner that runs every job at once, and no rate limit (all clients share one key)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WHETSTONE_") and k not in PROVIDER_VARIABLES
    }
    env.update(
        WHETSTONE_MAX_CONCURRENT_JOBS=str(max(4, jobs)),
        WHETSTONE_RATE_LIMIT_PER_MINUTE="0",
    )
    return env


class SoakServer:
    """The server as users run it (``whetstone serve --port 0 --data-dir …``). Its stderr
    (the uvicorn log) goes to ``server.log`` in the data dir."""

    def __init__(self, data_dir: Path, jobs: int) -> None:
        self.data_dir = data_dir
        self.port = 0
        self.pid = 0
        self._jobs = jobs
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._started = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/ws/optimization"

    @property
    def key(self) -> str:
        return (self.data_dir / "cli.key").read_text().strip()

    async def __aenter__(self) -> SoakServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = ["-c", "from whetstone.cli.main import main; main()", "serve"]
        command += ["--host", HOST, "--port", "0", "--data-dir", str(self.data_dir)]
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=server_env(self._jobs),
        )
        self.pid = self._proc.pid
        self._reader = asyncio.create_task(self._read())
        try:
            async with asyncio.timeout(START_SECONDS):
                await self._started.wait()
                await self._healthy()
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stop()

    async def _read(self) -> None:
        assert self._proc is not None
        assert self._proc.stderr is not None
        with (self.data_dir / "server.log").open("wb") as log:
            while line := await self._proc.stderr.readline():
                log.write(line)
                found = re.search(rb" on http://127\.0\.0\.1:(\d+) ", line)
                if found:
                    self.port = int(found.group(1))
                if b"Application startup complete" in line:
                    self._started.set()
        self._started.set()  # it ended: wake the start

    async def _healthy(self) -> None:
        """uvicorn logs its start a moment before it listens on the socket it was given."""
        assert self._proc is not None
        async with httpx.AsyncClient(base_url=self.url, trust_env=False) as client:
            while self._proc.returncode is None:
                try:
                    if (await client.get("/api/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"whetstone serve exited with code {self._proc.returncode}")

    async def _stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), STOP_SECONDS)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            await self._reader

    def tracebacks(self) -> list[str]:
        """The tracebacks the server logged (each one is an error), each with the line
        before it, which says what failed."""
        lines = (self.data_dir / "server.log").read_text(errors="replace").splitlines()
        found = []
        for i, line in enumerate(lines):
            if line.startswith("Traceback"):
                end = next((j for j in range(i + 1, len(lines)) if lines[j][:1] not in " "), i)
                found.append("\n".join(lines[max(0, i - 1) : end + 1]))
        return found

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for process {self.pid}")
