"""``whetstone demo``: the whole loop in one command, SIMULATED, for a first look.

1. Use the server at the URL if one answers; otherwise start one in this process (the
   default port, or a free one if that is busy; the usual data dir).
2. Load the ``dates-and-numbers`` sample (its score goes from 0 to 1, the clearest gain of
   the samples) as a prompt and a dataset; a second run reuses them.
3. Start a dry run (every model simulated, nothing paid) and follow it live.
4. Print the scores, the best prompt, its diff against the original, and the web UI's address.
5. Keep an embedded server running until Ctrl-C, so the web UI and the CLI can look at the
   job; ``--exit`` stops it at once instead (for scripts and tests).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.panel import Panel
from rich.text import Text

from whetstone.cli import local
from whetstone.cli.embedded import EmbeddedServer, bind_or_any
from whetstone.cli.errors import CliError
from whetstone.cli.follow import follow
from whetstone.cli.jobs import ending
from whetstone.cli.output import Output
from whetstone.cli.report import prompt_diff, show_results
from whetstone.cli.session import JsonOption, Session, Target
from whetstone.errors import NotFound, WhetstoneError
from whetstone.samples import load_sample
from whetstone.sdk import AsyncWhetstone, Dataset, Job, Prompt, Results
from whetstone.settings import Settings

SAMPLE = "dates-and-numbers"
# Two variants per iteration and this seed: the best climbs 0 → 0.5 → 1 over a few
# iterations instead of in the first one, which is easier to follow.
CONFIG = {"maxIterations": 8, "candidatesPerIteration": 2, "seed": 1, "dryRun": True}
PACE_MS = 50  # each simulated call takes this long, so the run can be watched
SIMULATED = (
    "SIMULATED: a dry run. The simulator plays every model (the task, the mutations, the "
    "judge); no model is called and nothing is paid. Scores show how the optimizer works, "
    "not how a real model would score."
)


@dataclass(frozen=True, slots=True)
class DemoRun:
    job: Job
    prompt: Prompt
    results: Results
    diff: str
    login_url: str | None


def demo(
    ctx: typer.Context,
    exit_: Annotated[
        bool, typer.Option("--exit", help="Stop the embedded server when the demo ends")
    ] = False,
    port: Annotated[
        int | None, typer.Option(help="Port of the embedded server (default: the URL's)")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data dir of the embedded server")
    ] = None,
    pace_ms: Annotated[
        int, typer.Option(help="Milliseconds per simulated call (0: as fast as possible)")
    ] = PACE_MS,
    json_mode: JsonOption = False,
) -> None:
    """Try Whetstone in one command: a SIMULATED optimization of a sample prompt, live."""
    session = Session.of(ctx, json_mode)
    server = None
    if not asyncio.run(_answers(session.target.url)):
        server = _embed(session, port, data_dir)
    elif session.target.api_key is None:
        session.fail(
            CliError(
                f"a Whetstone server answers at {session.target.url}, but the "
                "CLI has no API key for it",
                "Pass --api-key or set WHETSTONE_API_KEY.",
            )
        )
    try:
        run = session.run(lambda c: _run(c, session.out, pace_ms))
        _report(session.out, session.target.url, run)
        if server is not None and not exit_:
            _keep_serving(session.out, server)
    finally:
        if server is not None:
            server.stop()
            local.clear_server(server.settings.data_dir)


async def _answers(url: str) -> bool:
    try:
        async with AsyncWhetstone(url, timeout=3.0) as client:
            return (await client.health()).status == "ok"
    except WhetstoneError:
        return False


def _embed(session: Session, port: int | None, data_dir: Path | None) -> EmbeddedServer:
    """Start a server in this process, record it and its key, and point the session at it."""
    parts = urlsplit(session.target.url)
    host = parts.hostname or "127.0.0.1"
    if not local.is_loopback(host):
        session.fail(
            CliError(
                f"no Whetstone server answers at {session.target.url}; the demo starts its "
                "own only on this machine (a loopback address such as 127.0.0.1)",
                "Run `whetstone demo` without --url, or start the server there first.",
            )
        )
    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    key = asyncio.run(local.ensure_local_key(settings))
    sock = bind_or_any(host, port if port is not None else parts.port or 8000)
    bound = sock.getsockname()[1]
    settings = settings.model_copy(update={"host": host, "port": bound})
    session.out.note(
        f"No server at {session.target.url}; starting one in this process "
        f"(data in {settings.data_dir})…"
    )
    server = EmbeddedServer(settings, sock)
    try:
        server.start()
    except CliError as exc:
        session.fail(exc)
    local.write_server(settings.data_dir, server.url)
    session.target = Target(server.url, key.secret, str(settings.data_dir / local.KEY_FILE))
    return server


async def _run(client: AsyncWhetstone, out: Output, pace_ms: int) -> DemoRun:
    sample = load_sample(SAMPLE)
    prompt = await _prompt(client, sample)
    dataset = await _dataset(client, sample)
    config = {**sample["config"], **CONFIG, "tuningParams": {"simLatencyMs": pace_ms}}
    job = await client.optimization.start(prompt.id, dataset.id, config)
    if not out.json_mode:
        out.print(Panel(Text(SIMULATED), border_style="yellow", title="whetstone demo"))
        out.line(
            f"Optimizing the sample prompt {prompt.name!r} on {dataset.item_count} "
            f"questions: job {job.id}"
        )
    state = await follow(client, out, job.id)
    if state.results is None:
        raise CliError(f"the demo job {job.id} did not complete ({state.status}): {state.error}")
    diff = prompt_diff(
        prompt.body, state.results.best_prompt, prompt.id, state.results.result_prompt_id
    )
    if not out.json_mode:
        ending(out, state)
    try:
        login_url: str | None = await client.login_link(f"/optimizations/{job.id}")
    except NotFound:  # an older server without login links: the address alone still works
        login_url = None
    return DemoRun(job, prompt, state.results, diff, login_url)


async def _prompt(client: AsyncWhetstone, sample: dict[str, Any]) -> Prompt:
    """The sample's prompt: the original version from an earlier demo, or a new one."""
    name = f"demo-{sample['name']}"
    template = sample["prompt"]["template"]
    page = await client.prompts.list(name=name, limit=1)
    if not page.items:
        return await client.prompts.create(
            name, template=template, description=sample["description"]
        )
    for version in await client.prompts.versions(page.items[0].id):
        if version.source == "user" and version.template == template:
            return version
    return await client.prompts.create_version(page.items[0].id, template=template)


async def _dataset(client: AsyncWhetstone, sample: dict[str, Any]) -> Dataset:
    name = f"demo-{sample['name']}"
    items = sample["dataset"]["items"]
    async for found in client.datasets.iterate():
        if found.name == name and found.item_count == len(items):
            return found
    return await client.datasets.create(name, description=sample["description"], items=items)


def _report(out: Output, url: str, run: DemoRun) -> None:
    job_url = f"{url}/optimizations/{run.job.id}"
    if out.json_mode:
        out.json(
            {
                "jobId": run.job.id,
                "simulated": True,
                "url": f"{url}/",
                "jobUrl": job_url,
                "loginUrl": run.login_url,
                "results": run.results,
                "diff": run.diff,
            }
        )
        return
    show_results(out, run.results, diff=run.diff, title="Results (SIMULATED)")
    out.line(f"Web UI: {url}/   this job: {job_url}")
    if run.login_url is not None:
        out.line(f"Signed-in link to this job (works once, for 15 minutes): {run.login_url}")


def _keep_serving(out: Output, server: EmbeddedServer) -> None:
    out.note(
        f"The server keeps running at {server.url} so you can look around (the web UI, "
        "`whetstone optimize list`, …). Press Ctrl-C to stop it."
    )
    try:
        server.wait()
    except KeyboardInterrupt:
        out.note("Stopping the server…")
