"""One command's session: which server, which key, where output goes, and how errors end it.

The server is ``--url``, else ``WHETSTONE_URL``, else the server recorded in the data dir's
``server.json`` by ``whetstone serve``, else ``http://127.0.0.1:8000``. The key is
``--api-key``, else ``WHETSTONE_API_KEY``, else the data dir's ``cli.key`` when the server is
the one recorded next to it (see ``local.py``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.markup import escape

from whetstone.cli import local
from whetstone.cli.errors import CliError, explain
from whetstone.cli.output import Output
from whetstone.errors import WhetstoneError
from whetstone.sdk import AsyncWhetstone

T = TypeVar("T")

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON on stdout, and nothing else")
]


@dataclass(frozen=True, slots=True)
class Globals:
    """The options given before the command (``ctx.obj``)."""

    url: str | None = None
    api_key: str | None = None
    key_source: str | None = None  # "--api-key" or "WHETSTONE_API_KEY"
    json_mode: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    api_key: str | None
    key_source: str | None  # where the key came from, for error messages


def resolve_target(options: Globals) -> Target:
    data_dir = local.cli_data_dir()
    recorded = local.read_server(data_dir)
    url = (options.url or (recorded.url if recorded else None) or local.DEFAULT_URL).rstrip("/")
    if options.api_key:
        return Target(url, options.api_key, options.key_source or "--api-key")
    if recorded is not None and local.same_server(url, recorded.url):
        key = local.read_key(data_dir)
        if key is not None:
            return Target(url, key, str(data_dir / local.KEY_FILE))
    return Target(url, None, None)


class Session:
    """What a command runs with. ``run(work)`` opens the async client, awaits
    ``work(client)`` and turns a Whetstone error into a message and exit code 1."""

    def __init__(self, options: Globals, *, json_mode: bool = False) -> None:
        self.out = Output(json_mode=json_mode or options.json_mode)
        self.target = resolve_target(options)

    @classmethod
    def of(cls, ctx: typer.Context, json_mode: bool = False) -> Session:
        options = ctx.find_root().obj
        return cls(options if isinstance(options, Globals) else Globals(), json_mode=json_mode)

    def client(self) -> AsyncWhetstone:
        return AsyncWhetstone(self.target.url, self.target.api_key)

    def run(
        self, work: Callable[[AsyncWhetstone], Awaitable[T]], *, interrupted: str | None = None
    ) -> T:
        """``work(client)`` on a fresh event loop. Ctrl-C ends it with code 130, saying
        ``interrupted`` if given."""

        async def main() -> T:
            async with self.client() as client:
                return await work(client)

        try:
            return asyncio.run(main())
        except (WhetstoneError, CliError) as exc:
            self.fail(exc)
        except KeyboardInterrupt:
            self.out.note(escape(interrupted or "Interrupted."))
            raise typer.Exit(130) from None

    def fail(self, exc: WhetstoneError | CliError) -> NoReturn:
        """Report ``exc`` on stderr (JSON in ``--json`` mode) and exit with code 1."""
        message, hints = explain(exc, self.target.url, self.target.key_source)
        if self.out.json_mode:
            body = {"code": exc.code, "message": message, "details": exc.details}
            self.out.err.file.write(json.dumps({"error": body}) + "\n")
        else:
            self.out.note(f"[bold red]Error:[/] {escape(message)}")
            for hint in hints:
                self.out.note(f"  {escape(hint)}")
        raise typer.Exit(1)
