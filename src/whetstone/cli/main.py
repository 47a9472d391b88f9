"""The ``whetstone`` command: the server (``serve``, ``keys``), the client commands built on
the SDK (``prompts``, ``datasets``, ``optimize``) and ``demo``. docs/cli.md has them all."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from whetstone import __version__
from whetstone.cli import datasets, local, login, optimize, prompts
from whetstone.cli.backup import backup
from whetstone.cli.demo import demo
from whetstone.cli.embedded import HookedServer, bind, server_config
from whetstone.cli.session import Globals
from whetstone.settings import Settings
from whetstone.store.database import SchemaTooNew

app = typer.Typer(
    help="Whetstone: self-hosted prompt optimization with every step streamed live. "
    "New here? Run `whetstone demo`.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(prompts.app, name="prompts")
app.add_typer(datasets.app, name="datasets")
app.add_typer(optimize.app, name="optimize")
app.command("demo")(demo)
app.command("backup")(backup)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help=r"Where the database and secrets live \[env WHETSTONE_DATA_DIR]"
    ),
]


@app.callback()
def options(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            envvar="WHETSTONE_URL",
            help="The server (default: the one `whetstone serve` runs here, else "
            "http://127.0.0.1:8000)",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="WHETSTONE_API_KEY",
            help="An API key (default: the local key of `whetstone serve` on this machine)",
        ),
    ] = None,
    json_mode: Annotated[
        bool, typer.Option("--json", help="Machine-readable JSON on stdout, for every command")
    ] = False,
) -> None:
    source = ctx.get_parameter_source("api_key")
    from_env = source is not None and source.name == "ENVIRONMENT"
    ctx.obj = Globals(
        url=url,
        api_key=api_key,
        key_source="WHETSTONE_API_KEY" if from_env else "--api-key",
        json_mode=json_mode,
    )


def _settings(data_dir: Path | None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"WHETSTONE_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        Console(stderr=True, soft_wrap=True).print(f"Invalid setting: {problems}", markup=False)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help=r"Bind address \[env WHETSTONE_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help=r"Port \[env WHETSTONE_PORT]")] = None,
    data_dir: DataDir = None,
) -> None:
    """Run the API, the runner and the web UI in one process. CLI commands on this machine
    find it and its local admin key (DATA_DIR/cli.key) by themselves."""
    err = Console(stderr=True, soft_wrap=True)
    settings = _settings(data_dir, host=host, port=port)
    try:
        key = asyncio.run(local.ensure_local_key(settings))
    except SchemaTooNew as exc:
        err.print(f"Error: {exc}", markup=False)
        raise typer.Exit(1) from None
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        err.print(
            f"[bold red]Error:[/] cannot listen on {settings.host}:{settings.port} "
            f"({exc.strerror or exc}). Is another server running? Choose a port with --port."
        )
        raise typer.Exit(1) from None
    url = local.connect_url(settings.host, sock.getsockname()[1])
    err.print(f"Whetstone {__version__} on {url} (data in {settings.data_dir})")
    err.print(
        f"The CLI on this machine uses this server and its key in "
        f"{settings.data_dir / local.KEY_FILE} by itself."
    )
    local.write_server(settings.data_dir, url)
    config = server_config(settings, own_loggers=True)
    link = login.startup_link(config.app, url, key.workspace_id)
    err.print(f"Web UI: {url}/ - sign this browser in once with {link} (valid 15 minutes)")
    server = HookedServer(config, on_shutdown=lambda: local.clear_server(settings.data_dir))
    try:
        server.run(sockets=[sock])
    finally:
        local.clear_server(settings.data_dir)


@keys_app.command("create")
def keys_create(
    data_dir: DataDir = None,
    workspace: Annotated[str, typer.Option(help="Workspace the key belongs to")] = "default",
    name: Annotated[str | None, typer.Option(help="A label for the key")] = None,
) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    settings = _settings(data_dir)
    secret = asyncio.run(local.create_key(settings, workspace, name))
    Console(stderr=True).print(
        f"Created a key for workspace [bold]{workspace}[/]; it is shown only this once:"
    )
    typer.echo(secret)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    app()
