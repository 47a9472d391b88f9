"""The ``whetstone`` command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from whetstone import __version__
from whetstone.security import KeyHasher
from whetstone.settings import Settings
from whetstone.store.sql import SQLStore

app = typer.Typer(
    help="Whetstone: self-hosted prompt optimization with every step streamed live.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

err = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Where the database and secrets live [env WHETSTONE_DATA_DIR]"),
]


def _settings(data_dir: Path | None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)  # type: ignore[arg-type]


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [env WHETSTONE_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [env WHETSTONE_PORT]")] = None,
    data_dir: DataDir = None,
) -> None:
    """Run the API, the runner and the web UI in one process."""
    import uvicorn

    from whetstone.server.app import create_app

    settings = _settings(data_dir, host=host, port=port)
    err.print(
        f"Whetstone {__version__} on http://{settings.host}:{settings.port} "
        f"(data in {settings.data_dir})"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        ws_max_size=settings.ws_max_frame_bytes,
    )


async def _create_key(settings: Settings, workspace: str, name: str | None) -> str:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SQLStore(settings.resolved_database_url, KeyHasher(settings.server_secret()))
    try:
        await store.start()
        ws = await store.keys.ensure_workspace(workspace)
        _, secret = await store.keys.create_key(ws.id, name)
        return secret
    finally:
        await store.close()


@keys_app.command("create")
def keys_create(
    data_dir: DataDir = None,
    workspace: Annotated[str, typer.Option(help="Workspace the key belongs to")] = "default",
    name: Annotated[str | None, typer.Option(help="A label for the key")] = None,
) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    settings = _settings(data_dir)
    secret = asyncio.run(_create_key(settings, workspace, name))
    err.print(f"Created a key for workspace [bold]{workspace}[/]; it is shown only this once:")
    typer.echo(secret)


def main() -> None:
    app()
