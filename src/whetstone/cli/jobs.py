"""``whetstone optimize watch|status|list|pause|resume|cancel|results``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from whetstone.cli.errors import CliError
from whetstone.cli.follow import follow
from whetstone.cli.output import Output, page_note, score, table, usage_line, usd, when
from whetstone.cli.report import prompt_diff, scores_line, show_results
from whetstone.cli.session import JsonOption, Session
from whetstone.cli.watch import WatchState
from whetstone.domain.config import is_simulated
from whetstone.errors import InvalidTransition
from whetstone.sdk import AsyncWhetstone, Job, Results

JobId = Annotated[str, typer.Argument(help="An optimization job id")]
Reason = Annotated[str | None, typer.Option(help="Why (kept in the job's events)")]


def watch_job(session: Session, job_id: str) -> WatchState:
    """Follow the job to its end and say how it ended; exit 1 unless it completed."""
    state = session.run(
        lambda c: follow(c, session.out, job_id),
        interrupted=f"Stopped watching; job {job_id} goes on. "
        f"Follow it again with: whetstone optimize watch {job_id}",
    )
    if not session.out.json_mode:
        ending(session.out, state)
    if state.status != "completed":
        raise typer.Exit(1)
    return state


def ending(out: Output, state: WatchState) -> None:
    if state.status == "failed":
        out.note(f"[bold red]Job {state.job_id} failed:[/] {state.error or 'no reason given'}")
        return
    if state.results is not None:
        out.line(
            f"Job {state.job_id} {state.results.status}: {scores_line(state.results)}, "
            f"stopped by {state.results.stop_reason or 'unknown'}"
            + (" (SIMULATED)" if state.simulated else "")
        )
    out.line(f"Best prompt and its diff: whetstone optimize results {state.job_id} --diff")


def watch(ctx: typer.Context, job_id: JobId, json_mode: JsonOption = False) -> None:
    """Follow a job live: a live panel on a terminal, else one line per event
    (--json: one JSON object per event). Exits 0 if the job completed, else 1."""
    watch_job(Session.of(ctx, json_mode), job_id)


def status(ctx: typer.Context, job_id: JobId, json_mode: JsonOption = False) -> None:
    """A job's state, scores and usage."""
    session = Session.of(ctx, json_mode)
    job = session.run(lambda c: c.optimization.get(job_id))
    if session.out.json_mode:
        session.out.json(job)
        return
    session.out.print(describe(job))


def describe(job: Job) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    state = job.status + (f" ({job.pending_action} requested)" if job.pending_action else "")
    rows = [
        ("Status", state),
        ("Iteration", f"{job.current_iteration}/{job.config.get('maxIterations', '?')}"),
        (
            "Scores",
            f"initial {score(job.initial_score)} · best {score(job.best_score)} · "
            f"current {score(job.current_score)}",
        ),
        ("Usage", usage_line(job.usage)),
        ("Prompt", job.prompt_id),
        ("Dataset", job.dataset_id),
        ("Result", job.result_prompt_id or ""),
        ("Stopped by", job.stop_reason or ""),
        ("Created", when(job.created_at)),
        ("Started", when(job.started_at) if job.started_at else ""),
        ("Finished", when(job.finished_at) if job.finished_at else ""),
        ("Error", str((job.error or {}).get("message", ""))),
    ]
    for label, value in rows:
        if value:
            grid.add_row(label, Text(value))
    title = Text(f"Optimization {job.id}")
    if job.simulated or is_simulated(job.config):
        title.append("  SIMULATED ", style="bold black on yellow")
    return Panel(grid, title=title, title_align="left", expand=False)


def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only jobs in this status")] = None,
    limit: Annotated[int, typer.Option(help="How many to show (1-500)")] = 20,
    offset: Annotated[int, typer.Option(help="How many to skip")] = 0,
    json_mode: JsonOption = False,
) -> None:
    """Jobs, newest first."""
    session = Session.of(ctx, json_mode)
    page = session.run(lambda c: c.optimization.list(status=status, limit=limit, offset=offset))
    if session.out.json_mode:
        session.out.json(page)
        return
    rows = [
        (
            j.id,
            j.status + (" (sim)" if j.simulated or is_simulated(j.config) else ""),
            f"{j.current_iteration}/{j.config.get('maxIterations', '?')}",
            score(j.initial_score),
            score(j.best_score),
            usd(j.usage.cost_usd),
            when(j.created_at),
        )
        for j in page.items
    ]
    headers = ("ID", "STATUS", "ITERATION", "INITIAL", "BEST", "COST", "CREATED")
    session.out.print(table(*headers, rows=rows))
    page_note(session.out, len(page.items), page.total, offset, "optimizations")


def _act(ctx: typer.Context, json_mode: bool, call: Callable[[AsyncWhetstone], Any]) -> None:
    session = Session.of(ctx, json_mode)
    job: Job = session.run(call)
    if session.out.json_mode:
        session.out.json(job)
    elif job.pending_action:
        session.out.line(
            f"Job {job.id}: {job.pending_action} requested; it takes effect after the current step."
        )
    else:
        session.out.line(f"Job {job.id} is {job.status}")


def pause(
    ctx: typer.Context, job_id: JobId, reason: Reason = None, json_mode: JsonOption = False
) -> None:
    """Pause a running job after its current step."""
    _act(ctx, json_mode, lambda c: c.optimization.pause(job_id, reason=reason))


def resume(ctx: typer.Context, job_id: JobId, json_mode: JsonOption = False) -> None:
    """Resume a paused job."""
    _act(ctx, json_mode, lambda c: c.optimization.resume(job_id))


def cancel(
    ctx: typer.Context, job_id: JobId, reason: Reason = None, json_mode: JsonOption = False
) -> None:
    """Cancel a job; its best prompt so far stays in its results."""
    _act(ctx, json_mode, lambda c: c.optimization.cancel(job_id, reason=reason))


def results(
    ctx: typer.Context,
    job_id: JobId,
    diff: Annotated[
        bool, typer.Option("--diff", help="Also a unified diff: original → best")
    ] = False,
    json_mode: JsonOption = False,
) -> None:
    """What an ended job found: scores, stop reason, usage, the best prompt (--diff: and how
    it differs from the original)."""
    session = Session.of(ctx, json_mode)
    found, text = session.run(lambda c: fetch_results(c, job_id, diff=diff))
    show_results(session.out, found, diff=text)


async def fetch_results(
    client: AsyncWhetstone, job_id: str, *, diff: bool
) -> tuple[Results, str | None]:
    """The results, and the diff against the job's original prompt when asked for."""
    try:
        found = await client.optimization.results(job_id)
    except InvalidTransition as exc:
        raise CliError(
            exc.message,
            f"Follow it to its end with `whetstone optimize watch {job_id}`, or stop it with "
            f"`whetstone optimize cancel {job_id}`.",
        ) from exc
    if not diff:
        return found, None
    job = await client.optimization.get(job_id)
    original = await client.prompts.get(job.prompt_id)
    return found, prompt_diff(original.body, found.best_prompt, original.id, found.result_prompt_id)


COMMANDS: dict[str, Callable[..., None]] = {
    "watch": watch,
    "status": status,
    "list": list_,
    "pause": pause,
    "resume": resume,
    "cancel": cancel,
    "results": results,
}
