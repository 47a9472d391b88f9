"""What ``whetstone optimize watch`` shows: a job's state folded from its events, drawn as a
Rich panel (on a terminal) or as one line per event (otherwise). Pure: no I/O here; the
shell that subscribes and draws is ``follow.py``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from whetstone.cli.output import score, usage_line
from whetstone.domain.config import is_simulated
from whetstone.sdk import (
    EvaluationComplete,
    EvaluationStart,
    Event,
    IterationComplete,
    IterationStart,
    Job,
    JobCancelled,
    JobComplete,
    JobFailed,
    JobPaused,
    JobResumed,
    JobStarted,
    MutationGenerated,
    NewBest,
    Results,
    Usage,
)

SPARK = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 48
PREVIEW_WIDTH = 100
CONNECTION_STYLE = {"connected": "green", "reconnecting": "bold yellow", "closed": "dim"}


def sparkline(values: Sequence[float], width: int = SPARK_WIDTH) -> str:
    """The last ``width`` scores (0-1) as block characters, low to high."""
    top = len(SPARK) - 1
    return "".join(SPARK[round(min(1.0, max(0.0, v)) * top)] for v in values[-width:])


def one_line(text: str, width: int = PREVIEW_WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@dataclass
class WatchState:
    """Everything the view shows, updated by :meth:`apply` for each event in order."""

    job_id: str
    status: str = "queued"
    stage: str = "waiting"
    iteration: int = 0
    iterations_done: int = 0
    max_iterations: int | None = None
    simulated: bool = False
    initial_score: float | None = None
    best_score: float | None = None
    current_score: float | None = None
    scores: list[float] = field(default_factory=list)
    mutation: tuple[str, str] | None = None  # (type, preview) of the latest variant
    usage: Usage = field(default_factory=Usage)
    connection: str = "connecting"
    reconnects: int = 0
    results: Results | None = None
    error: str | None = None

    @classmethod
    def from_job(cls, job: Job) -> WatchState:
        return cls(
            job_id=job.id,
            status=job.status,
            max_iterations=_int(job.config.get("maxIterations")),
            simulated=job.simulated or is_simulated(job.config),
        )

    def connection_changed(self, state: str) -> None:
        if state == "reconnecting" and self.connection != "reconnecting":
            self.reconnects += 1
        self.connection = state

    def apply(self, event: Event) -> None:
        self.stage = event.stage or self.stage
        self.iteration = event.iteration
        if isinstance(event, JobStarted):
            self.status = "running"
            self.max_iterations = _int(event.config.get("maxIterations")) or self.max_iterations
            self.simulated = self.simulated or is_simulated(event.config)
        elif isinstance(event, IterationStart | JobResumed):
            self.status = "running"
        elif isinstance(event, MutationGenerated):
            self.mutation = (event.mutation_type, event.preview)
        elif isinstance(event, EvaluationComplete) and event.score is not None:
            self._scored(event.candidate_id, event.score)
        elif isinstance(event, NewBest) and event.score is not None:
            self.best_score = event.score
        elif isinstance(event, IterationComplete):
            self.iterations_done = event.iteration
            self.best_score = event.best_score if event.best_score is not None else self.best_score
            self.usage = event.usage or self.usage
        else:
            self._lifecycle(event)

    def _scored(self, candidate: str, value: float) -> None:
        self.current_score = value
        self.scores.append(value)
        if candidate == "baseline" and self.initial_score is None:
            self.initial_score = value
        if self.best_score is None:
            self.best_score = value

    def _lifecycle(self, event: Event) -> None:
        if isinstance(event, JobPaused):
            self.status = "paused"
        elif isinstance(event, JobComplete):
            self.status = "completed"
            if event.results is not None:
                self.finish(event.results)
        elif isinstance(event, JobFailed):
            self.status = "retrying" if event.will_retry else "failed"
            self.error = str(event.error.get("message") or event.error.get("code") or "")
        elif isinstance(event, JobCancelled):
            self.status = "cancelled"

    def finish(self, results: Results) -> None:
        self.results = results
        self.initial_score = _first(results.initial_score, self.initial_score)
        self.best_score = _first(results.final_score, self.best_score)
        self.usage = results.usage
        if results.status == "completed":
            self.iterations_done = max(self.iterations_done, results.iterations)


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None), None)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- the Rich view ----------------------------------------------------------------------


def render(state: WatchState) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("Progress", _progress(state))
    grid.add_row("Stage", Text(f"{state.stage} · {state.status}"))
    grid.add_row("Best", _best(state))
    grid.add_row("Current", Text(score(state.current_score)))
    grid.add_row("Scores", Text(sparkline(state.scores) or "—", style="cyan"))
    if state.mutation is not None:
        kind, preview = state.mutation
        grid.add_row("Mutation", Text(f"{kind}: {one_line(preview)}"))
    simulated = " (simulated)" if state.simulated else ""
    grid.add_row("Cost", Text(usage_line(state.usage) + simulated))
    connection = state.connection
    if state.reconnects and state.connection == "connected":
        connection += f" (reconnected {state.reconnects} times)"
    grid.add_row("Connection", Text(connection, style=CONNECTION_STYLE.get(state.connection, "")))
    if state.error:
        grid.add_row("Error", Text(state.error, style="red"))
    title = Text(f"Optimization {state.job_id}")
    if state.simulated:
        title.append("  SIMULATED ", style="bold black on yellow")
    return Panel(grid, title=title, title_align="left", expand=False)


def _progress(state: WatchState) -> RenderableType:
    total = state.max_iterations or max(state.iterations_done, 1)
    row = Table.grid(padding=(0, 1))
    row.add_row(
        ProgressBar(total=total, completed=min(state.iterations_done, total), width=40),
        Text(f"iteration {state.iterations_done}/{state.max_iterations or '?'}"),
    )
    return row


def _best(state: WatchState) -> Text:
    text = Text(score(state.best_score), style="bold green")
    if state.initial_score is not None and state.best_score is not None:
        gain = state.best_score - state.initial_score
        text.append(f"  (initial {score(state.initial_score)}, {gain:+.3f})")
    return text


# -- one line per event -----------------------------------------------------------------


def event_line(event: Event) -> str:
    head = f"[{event.id}] iteration {event.iteration} {event.type}"
    detail = _detail(event)
    return f"{head}: {detail}" if detail else head


def _detail(event: Event) -> str:
    if isinstance(event, JobStarted):
        simulated = " (SIMULATED)" if is_simulated(event.config) else ""
        return f"prompt {event.prompt_id}, dataset {event.dataset_id}{simulated}"
    if isinstance(event, MutationGenerated):
        dropped = ", discarded" if event.status == "discarded" else ""
        return (
            f"{event.candidate_id} ({event.mutation_type}{dropped}) {one_line(event.preview, 80)}"
        )
    if isinstance(event, EvaluationStart):
        return f"{event.candidate_id} on {event.item_count} items"
    if isinstance(event, EvaluationComplete):
        return f"{event.candidate_id} score {score(event.score)}"
    if isinstance(event, NewBest):
        return (
            f"{event.candidate_id} score {score(event.score)} (was {score(event.previous_score)})"
        )
    if isinstance(event, IterationComplete):
        cost = f", {usage_line(event.usage)}" if event.usage else ""
        return f"best {score(event.best_score)}{cost}"
    if isinstance(event, JobComplete) and event.results is not None:
        r = event.results
        return f"{score(r.initial_score)} -> {score(r.final_score)}, stopped by {r.stop_reason}"
    if isinstance(event, JobFailed):
        return str(event.error.get("message", "")) + (" (will retry)" if event.will_retry else "")
    if isinstance(event, JobPaused | JobCancelled):
        return event.reason or ""
    return ""
