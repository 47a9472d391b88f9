"""``whetstone prompts create|list|show|versions``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from whetstone.cli.errors import CliError
from whetstone.cli.output import page_note, prompt_text, table, when
from whetstone.cli.session import JsonOption, Session
from whetstone.sdk import Prompt

app = typer.Typer(
    help="Prompts: a template or chat messages, kept as numbered versions.",
    no_args_is_help=True,
)

Limit = Annotated[int, typer.Option(help="How many to show (1-500)")]
Offset = Annotated[int, typer.Option(help="How many to skip")]


def prompt_content(template: str | None, path: Path | None) -> dict[str, Any]:
    """``template=`` or ``messages=`` from ``--template`` or ``--file``. A ``.json`` file holds
    ``{"template": …}``, ``{"messages": […]}`` or a list of messages; any other file is the
    template itself."""
    if (template is None) == (path is None):
        raise CliError("give the prompt as --template TEXT or --file PATH (exactly one)")
    if template is not None:
        return {"template": template}
    assert path is not None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read it as UTF-8 text ({exc})") from exc
    if path.suffix.lower() != ".json":
        return {"template": text}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    if isinstance(value, list):
        value = {"messages": value}
    if isinstance(value, dict) and isinstance(value.get("template"), str):
        return {"template": value["template"]}
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        messages = value["messages"]
        if all(isinstance(m, dict) and {"role", "content"} <= set(m) for m in messages):
            return {"messages": messages}
    raise CliError(
        f'{path}: expected {{"template": "…"}}, {{"messages": [{{"role", "content"}}, …]}} '
        "or a list of messages"
    )


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name, unique in the workspace")],
    template: Annotated[
        str | None, typer.Option("--template", "-t", help="The template, e.g. 'Answer: {question}'")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", "-f", help="Read the template from a text file, or a .json prompt/messages"
        ),
    ] = None,
    description: Annotated[str | None, typer.Option(help="What the prompt is for")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="A tag (repeatable)")] = None,
    json_mode: JsonOption = False,
) -> None:
    """Create a prompt (version 1). Variables are {name}; {{ and }} are literal braces."""
    session = Session.of(ctx, json_mode)
    try:
        content = prompt_content(template, file)
    except CliError as exc:
        session.fail(exc)
    prompt = session.run(
        lambda c: c.prompts.create(name, **content, description=description, tags=tag)
    )
    if session.out.json_mode:
        session.out.json(prompt)
        return
    variables = ", ".join(prompt.variables) or "none"
    session.out.line(f"Created prompt {prompt.name} ({prompt.id}), version {prompt.version}")
    session.out.line(f"Variables: {variables}")


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Only prompts with this exact name")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    json_mode: JsonOption = False,
) -> None:
    """The latest version of each prompt, newest first."""
    session = Session.of(ctx, json_mode)
    page = session.run(lambda c: c.prompts.list(name=name, limit=limit, offset=offset))
    if session.out.json_mode:
        session.out.json(page)
        return
    rows = [
        (p.id, p.name, str(p.version), ", ".join(p.variables), p.source, when(p.created_at))
        for p in page.items
    ]
    session.out.print(table("ID", "NAME", "VERSION", "VARIABLES", "SOURCE", "CREATED", rows=rows))
    page_note(session.out, len(page.items), page.total, offset, "prompts")


@app.command("show")
def show(
    ctx: typer.Context,
    prompt_id: Annotated[str, typer.Argument(help="A prompt id (any version)")],
    json_mode: JsonOption = False,
) -> None:
    """One prompt version: its text, variables and where it came from."""
    session = Session.of(ctx, json_mode)
    prompt = session.run(lambda c: c.prompts.get(prompt_id))
    if session.out.json_mode:
        session.out.json(prompt)
        return
    session.out.print(describe(prompt))


def describe(prompt: Prompt) -> Panel:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    latest = " (latest)" if prompt.is_latest else ""
    source = prompt.source + (f", from optimization {prompt.job_id}" if prompt.job_id else "")
    for label, value in (
        ("Id", prompt.id),
        ("Version", f"{prompt.version}{latest}"),
        ("Variables", ", ".join(prompt.variables) or "none"),
        ("Source", source),
        ("Created", when(prompt.created_at)),
        ("Tags", ", ".join(prompt.tags)),
        ("Description", prompt.description or ""),
    ):
        if value:
            facts.add_row(label, Text(value))
    body = Panel(Text(prompt_text(prompt.body)), title="text", title_align="left")
    return Panel.fit(Group(facts, body), title=Text(prompt.name), title_align="left")


@app.command("versions")
def versions(
    ctx: typer.Context,
    prompt_id: Annotated[str, typer.Argument(help="A prompt id (any version)")],
    json_mode: JsonOption = False,
) -> None:
    """Every version of a prompt, oldest first (--json: a JSON array)."""
    session = Session.of(ctx, json_mode)
    found = session.run(lambda c: c.prompts.versions(prompt_id))
    if session.out.json_mode:
        session.out.json(found)
        return
    rows = [
        (
            p.id,
            str(p.version) + (" (latest)" if p.is_latest else ""),
            p.source,
            p.job_id or "",
            when(p.created_at),
        )
        for p in found
    ]
    session.out.print(table("ID", "VERSION", "SOURCE", "JOB", "CREATED", rows=rows))
