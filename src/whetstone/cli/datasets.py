"""``whetstone datasets create|import|list|items``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from whetstone.cli.errors import CliError
from whetstone.cli.itemfiles import FORMATS, read_items
from whetstone.cli.output import page_note, table, when
from whetstone.cli.session import JsonOption, Session
from whetstone.sdk import AsyncWhetstone, Dataset, Item, Page

app = typer.Typer(
    help="Datasets: items with input variables and, optionally, an expected output.",
    no_args_is_help=True,
)

BATCH = 1000  # items per request
FILE_HELP = (
    "JSONL (one item per line), CSV (a header row; columns are input variables, "
    "expected_output is the expected output) or JSON (a list of items, or {'items': [...]})"
)
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format", help=f"The file's format ({'/'.join(FORMATS)}); by default from its suffix"
    ),
]


def _items(session: Session, path: Path, fmt: str | None) -> list[dict[str, Any]]:
    if fmt is not None and fmt not in FORMATS:
        session.fail(CliError(f"unknown format {fmt!r}; one of: {', '.join(FORMATS)}"))
    try:
        return read_items(path, fmt)
    except CliError as exc:
        session.fail(exc)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the dataset")],
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help=f"Items from a file: {FILE_HELP}")
    ] = None,
    fmt: FormatOption = None,
    description: Annotated[str | None, typer.Option(help="What the dataset is")] = None,
    json_mode: JsonOption = False,
) -> None:
    """Create a dataset, empty or with the items of a file."""
    session = Session.of(ctx, json_mode)
    items = _items(session, file, fmt) if file is not None else []

    async def work(client: AsyncWhetstone) -> Dataset:
        dataset = await client.datasets.create(name, description=description, items=items[:BATCH])
        if len(items) > BATCH:
            await client.datasets.add_items(dataset.id, items[BATCH:], batch_size=BATCH)
            dataset = await client.datasets.get(dataset.id)
        return dataset

    dataset = session.run(work)
    if session.out.json_mode:
        session.out.json(dataset)
        return
    session.out.line(
        f"Created dataset {dataset.name} ({dataset.id}) with {dataset.item_count} items"
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    dataset_id: Annotated[str, typer.Argument(help="The dataset to add to")],
    file: Annotated[Path, typer.Argument(help=FILE_HELP)],
    fmt: FormatOption = None,
    json_mode: JsonOption = False,
) -> None:
    """Add the items of a JSONL, CSV or JSON file to a dataset (checked before sending)."""
    session = Session.of(ctx, json_mode)
    items = _items(session, file, fmt)

    async def work(client: AsyncWhetstone) -> tuple[int, Dataset]:
        added = await client.datasets.add_items(dataset_id, items, batch_size=BATCH)
        return added, await client.datasets.get(dataset_id)

    added, dataset = session.run(work)
    if session.out.json_mode:
        session.out.json({"added": added, "dataset": dataset})
        return
    session.out.line(
        f"Added {added} items from {file} to {dataset.name} ({dataset.id}); "
        f"it has {dataset.item_count} now"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many to show (1-500)")] = 50,
    offset: Annotated[int, typer.Option(help="How many to skip")] = 0,
    json_mode: JsonOption = False,
) -> None:
    """Datasets, newest first."""
    session = Session.of(ctx, json_mode)
    page = session.run(lambda c: c.datasets.list(limit=limit, offset=offset))
    if session.out.json_mode:
        session.out.json(page)
        return
    rows = [
        (d.id, d.name, str(d.item_count), when(d.created_at), d.description or "")
        for d in page.items
    ]
    session.out.print(table("ID", "NAME", "ITEMS", "CREATED", "DESCRIPTION", rows=rows))
    page_note(session.out, len(page.items), page.total, offset, "datasets")


@app.command("items")
def items(
    ctx: typer.Context,
    dataset_id: Annotated[str, typer.Argument(help="A dataset id")],
    limit: Annotated[int, typer.Option(help="How many to show (1-5000)")] = 20,
    offset: Annotated[int, typer.Option(help="How many to skip")] = 0,
    all_: Annotated[bool, typer.Option("--all", help="Every item (ignores --limit)")] = False,
    json_mode: JsonOption = False,
) -> None:
    """A dataset's items in insertion order (--json output imports again)."""
    session = Session.of(ctx, json_mode)

    async def work(client: AsyncWhetstone) -> Page[Item]:
        if not all_:
            return await client.datasets.items(dataset_id, limit=limit, offset=offset)
        found = [i async for i in client.datasets.iterate_items(dataset_id)][offset:]
        return Page(tuple(found), offset + len(found), len(found), offset, False)

    page = session.run(work)
    if session.out.json_mode:
        session.out.json(page)
        return
    rows = [
        (str(offset + n), _compact(item.input), _compact(item.expected_output))
        for n, item in enumerate(page.items, start=1)
    ]
    session.out.print(table("#", "INPUT", "EXPECTED OUTPUT", rows=rows))
    page_note(session.out, len(page.items), page.total, offset, "items")


def _compact(value: Any, width: int = 80) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
