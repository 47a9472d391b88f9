"""Where the CLI writes: human output (Rich) or ``--json``, on stdout; messages on stderr.

With ``--json`` stdout carries JSON only: one document per command, or one JSON object per
line for the commands that follow a job. Objects have the REST API's camelCase shape.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from whetstone.domain.codec import format_timestamp
from whetstone.sdk import Event, Message, PromptBody, Usage

WIDE = 200  # columns for output that is not a terminal, so piped tables keep whole ids


def _console(stderr: bool) -> Console:
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, highlight=False, width=WIDE)
    return console


def jsonable(value: Any) -> Any:
    """SDK objects as their wire JSON (camelCase), for ``--json``."""
    if isinstance(value, Event):
        return {
            "id": value.id,
            "jobId": value.job_id,
            "eventType": value.type,
            "iteration": value.iteration,
            "stage": value.stage,
            "timestamp": format_timestamp(value.timestamp) if value.timestamp else None,
            "data": value.data,
        }
    if isinstance(value, PromptBody | Usage | Message):
        return value.to_wire()
    if isinstance(value, datetime):
        return format_timestamp(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_camel(f.name): jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class Output:
    """The two streams of one command, and whether stdout is JSON."""

    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode
        self.out = _console(stderr=False)
        self.err = _console(stderr=True)

    @property
    def is_terminal(self) -> bool:
        return self.out.is_terminal

    def json(self, value: Any) -> None:
        """One JSON document (or one line of a JSON-lines stream) on stdout."""
        text = json.dumps(jsonable(value), ensure_ascii=False)
        self.out.file.write(text + "\n")
        self.out.file.flush()

    def print(self, *renderables: RenderableType) -> None:
        """Human output on stdout (nothing in JSON mode)."""
        if not self.json_mode:
            self.out.print(*renderables)

    def line(self, text: str) -> None:
        """One plain line on stdout, not wrapped and never read as markup."""
        if not self.json_mode:
            self.out.print(Text(text), soft_wrap=True)

    def note(self, message: str) -> None:
        """A message for the person at the terminal, on stderr (Rich markup allowed)."""
        self.err.print(message, soft_wrap=True)


# -- formatting -------------------------------------------------------------------------


def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def usd(value: float) -> str:
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def when(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def usage_line(usage: Usage) -> str:
    text = f"{usage.llm_calls} LLM calls · {usage.total_tokens:,} tokens · {usd(usage.cost_usd)}"
    if usage.cached_calls:
        text += f" · {usage.cached_calls} cached (saved {usd(usage.cached_cost_usd)})"
    return text


def prompt_text(body: PromptBody | None) -> str:
    """A prompt as plain text: the template, or each message under its role."""
    if body is None:
        return ""
    if body.template is not None:
        return body.template
    return "\n\n".join(f"[{m.role}]\n{m.content}" for m in body.messages or ())


def table(*columns: str, rows: Iterable[Iterable[str]], title: str | None = None) -> Table:
    """A plain table; cells are text, never markup; the first column (an id) never wraps."""
    grid = Table(*columns, title=title, header_style="bold", show_edge=False, pad_edge=False)
    grid.columns[0].no_wrap = True
    for row in rows:
        grid.add_row(*(Text(cell) for cell in row))
    return grid


def simulated_label(simulated: bool) -> str:
    return " [bold black on yellow] SIMULATED [/]" if simulated else ""


def page_note(out: Output, shown: int, total: int, offset: int, noun: str) -> None:
    """On stderr: that the list is empty, or which part of it was shown."""
    if total == 0 and offset == 0:
        out.note(f"No {noun} yet.")
    elif shown < total:
        first = offset + 1 if shown else offset
        out.note(f"Showing {first}-{offset + shown} of {total} {noun}; see more with --offset.")
