"""``whetstone optimize start``: every config field of the protocol as a flag. The other job
commands (watch, status, list, pause, resume, cancel, results) are in ``jobs.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from whetstone.cli import config as cfg
from whetstone.cli import jobs
from whetstone.cli.errors import CliError
from whetstone.cli.output import simulated_label
from whetstone.cli.session import JsonOption, Session
from whetstone.domain.config import is_simulated
from whetstone.sdk import AsyncWhetstone, Job

app = typer.Typer(help="Optimization jobs: start, follow, control, results.", no_args_is_help=True)
for name, command in jobs.COMMANDS.items():
    app.command(name)(command)

LIMITS = "Limits and stop rules"
SEARCH = "Search"
MODELS = "Models"
RUN = "Running"


def _opt(help_: str, panel: str, *names: str, **kw: Any) -> Any:
    return typer.Option(*names, help=help_, rich_help_panel=panel, **kw)


@app.command("start")
def start(
    ctx: typer.Context,
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="The prompt id to optimize")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="The dataset id to score on")],
    config_file: Annotated[
        Path | None,
        _opt("A JSON config (camelCase or snake_case keys); flags win", RUN, "--config"),
    ] = None,
    max_iterations: Annotated[
        int | None, _opt("Iterations after the baseline (1-100; 10)", LIMITS)
    ] = None,
    target_score: Annotated[
        float | None, _opt("Stop when the best reaches it (0-1)", LIMITS)
    ] = None,
    patience: Annotated[
        int | None, _opt("Stop after this many iterations without a new best", LIMITS)
    ] = None,
    min_improvement: Annotated[
        float | None, _opt("Smallest gain that counts as a new best (0.01)", LIMITS)
    ] = None,
    timeout: Annotated[
        str | None, _opt("Wall-clock limit: 90s, 30m, 1h (a number: seconds)", LIMITS)
    ] = None,
    max_cost_usd: Annotated[float | None, _opt("Budget: USD", LIMITS)] = None,
    max_llm_calls: Annotated[int | None, _opt("Budget: LLM calls", LIMITS)] = None,
    max_tokens: Annotated[int | None, _opt("Budget: tokens", LIMITS)] = None,
    mutation_strength: Annotated[
        float | None, _opt("How far a variant may move (0-1; 0.5)", SEARCH)
    ] = None,
    mutation_types: Annotated[
        list[str] | None,
        _opt("Strategies, comma-separated or repeated (default: all that apply)", SEARCH),
    ] = None,
    candidates_per_iteration: Annotated[
        int | None, _opt("Variants per iteration (1-32; 4)", SEARCH)
    ] = None,
    metric: Annotated[
        list[str] | None,
        _opt("A metric, NAME or NAME:WEIGHT (repeatable; default exact_match)", SEARCH),
    ] = None,
    preserve_variables: Annotated[
        bool | None,
        _opt(
            "Variants keep every {variable} (default yes)",
            SEARCH,
            "--preserve-variables/--no-preserve-variables",
        ),
    ] = None,
    preserve_structure: Annotated[
        bool | None,
        _opt(
            "Variants keep the message/section layout (default no)",
            SEARCH,
            "--preserve-structure/--no-preserve-structure",
        ),
    ] = None,
    tuning: Annotated[str | None, _opt("Per-strategy options as a JSON object", SEARCH)] = None,
    model: Annotated[
        str | None, _opt("provider/model for every role not set below", MODELS)
    ] = None,
    task_model: Annotated[
        str | None, _opt("provider/model that answers the dataset", MODELS)
    ] = None,
    mutation_model: Annotated[
        str | None, _opt("provider/model that writes variants", MODELS)
    ] = None,
    judge_model: Annotated[str | None, _opt("provider/model for judge metrics", MODELS)] = None,
    dry_run: Annotated[
        bool | None,
        _opt("Simulate every model: no paid calls (SIMULATED)", MODELS, "--dry-run/--no-dry-run"),
    ] = None,
    concurrency: Annotated[int | None, _opt("LLM calls in flight (1-256; 8)", RUN)] = None,
    seed: Annotated[int | None, _opt("Makes the run reproducible", RUN)] = None,
    watch: Annotated[bool, _opt("Follow the job live until it ends", RUN, "--watch", "-w")] = False,
    json_mode: JsonOption = False,
) -> None:
    """Start an optimization of a prompt on a dataset (see docs/cli.md for every flag)."""
    session = Session.of(ctx, json_mode)
    try:
        base = cfg.read_config_file(config_file) if config_file is not None else {}
    except CliError as exc:
        session.fail(exc)
    flags = {
        "maxIterations": max_iterations,
        "targetScore": target_score,
        "patience": patience,
        "minImprovement": min_improvement,
        "mutationStrength": mutation_strength,
        "mutationTypes": cfg.split_names(mutation_types),
        "candidatesPerIteration": candidates_per_iteration,
        "evaluationMetrics": [cfg.parse_metric(m) for m in metric] if metric else None,
        "preserveVariables": preserve_variables,
        "preserveStructure": preserve_structure,
        "timeout": cfg.parse_duration_ms(timeout) if timeout is not None else None,
        "model": model,
        "taskModel": task_model,
        "mutationModel": mutation_model,
        "judgeModel": judge_model,
        "dryRun": dry_run,
        "concurrency": concurrency,
        "seed": seed,
        "tuningParams": cfg.parse_json_object(tuning) if tuning is not None else None,
    }
    budget = {"maxCostUsd": max_cost_usd, "maxLlmCalls": max_llm_calls, "maxTokens": max_tokens}
    config = cfg.merge(base, flags, budget)

    async def work(client: AsyncWhetstone) -> Job:
        return await client.optimization.start(prompt, dataset, config)

    job = session.run(work)
    if not watch:
        announce(session, job)
        return
    if not session.out.json_mode:
        announce(session, job)
    jobs.watch_job(session, job.id)


def announce(session: Session, job: Job) -> None:
    out = session.out
    if out.json_mode:
        out.json(job)
        return
    simulated = job.simulated or is_simulated(job.config)
    out.print(f"Started optimization [bold]{job.id}[/] ({job.status}){simulated_label(simulated)}")
    if simulated:
        out.line("SIMULATED: a dry run; the simulator plays every model, nothing is paid.")
    out.line(f"Follow it with: whetstone optimize watch {job.id}")
