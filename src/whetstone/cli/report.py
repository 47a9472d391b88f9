"""A finished job's results as text: the scores, the best prompt, and its diff."""

from __future__ import annotations

import difflib
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from whetstone.cli.output import Output, jsonable, prompt_text, score, usage_line
from whetstone.sdk import PromptBody, Results


def prompt_diff(
    original: PromptBody | None, best: PromptBody | None, original_id: str, best_id: str | None
) -> str:
    """A unified diff of the original and the best prompt ('' when they are the same)."""
    before = prompt_text(original).splitlines(keepends=True)
    after = prompt_text(best).splitlines(keepends=True)
    lines = difflib.unified_diff(
        [_ended(line) for line in before],
        [_ended(line) for line in after],
        fromfile=f"original ({original_id})",
        tofile=f"best ({best_id or 'unchanged'})",
    )
    return "".join(lines)


def _ended(line: str) -> str:
    return line if line.endswith("\n") else line + "\n"


def scores_line(results: Results) -> str:
    text = f"{score(results.initial_score)} → {score(results.final_score)}"
    if results.improvement is not None:
        text += f" ({results.improvement:+.3f}"
        if results.relative_improvement is not None:
            text += f", {results.relative_improvement:+.0%}"
        text += ")"
    return text


def summary(results: Results) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    status = results.status + ("  SIMULATED" if results.simulated else "")
    grid.add_row("Status", Text(status, style="bold black on yellow" if results.simulated else ""))
    grid.add_row("Scores", Text(scores_line(results), style="bold"))
    stop = results.stop_reason or "—"
    grid.add_row("Stopped", Text(f"{stop} after {results.iterations} iterations"))
    grid.add_row("Usage", Text(usage_line(results.usage)))
    if results.result_prompt_id:
        grid.add_row("Best prompt", Text(results.result_prompt_id))
    return grid


def best_prompt(results: Results) -> RenderableType:
    return Panel(
        Text(prompt_text(results.best_prompt)),
        title="best prompt",
        title_align="left",
        expand=False,
    )


def show_diff(out: Output, diff: str) -> None:
    if not diff:
        out.line("The best prompt is the original: no variant beat it.")
    elif out.is_terminal:
        out.print(Syntax(diff, "diff", theme="ansi_dark", background_color="default"))
    else:
        for line in diff.splitlines():
            out.line(line)


def show_results(
    out: Output, results: Results, *, diff: str | None = None, title: str | None = None
) -> None:
    """The results, with the diff if one is given; ``--json``: one object (with ``diff``)."""
    if out.json_mode:
        value: dict[str, Any] = jsonable(results)
        if diff is not None:
            value["diff"] = diff
        out.json(value)
        return
    parts: list[RenderableType] = [summary(results), best_prompt(results)]
    out.print(Group(Text(title or f"Results of {results.job_id}", style="bold"), *parts))
    if diff is not None:
        show_diff(out, diff)
