"""``whetstone backup DEST``: a consistent copy of a data dir, safe while the server runs.

DEST becomes a data dir of its own (mode 0700), holding:

- ``whetstone.db``: the database, copied with SQLite's online backup API in one read
  transaction, so it is a consistent snapshot even while jobs write to the database in WAL
  mode (a plain ``cp`` of the file could miss what is still in ``whetstone.db-wal``);
  checked with ``PRAGMA quick_check``; mode 0600;
- ``secret.key`` (mode 0600): the server secret; without it no stored API key verifies.
  Not copied when the secret comes from ``WHETSTONE_SECRET_KEY`` (keep that value instead);
- ``node.id``: so a server restored in place resumes the jobs that were running at once.

``cli.key`` and ``server.json`` are not copied: ``whetstone serve`` makes them again.
Restore by stopping the server and putting DEST where the data dir was, or by serving
``--data-dir DEST``. docs/operations.md has the procedure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.engine import make_url

from whetstone.cli.errors import CliError
from whetstone.cli.session import Session
from whetstone.settings import Settings

DATABASE = "whetstone.db"
SECRET = "secret.key"
NODE_ID = "node.id"
BUSY_TIMEOUT = 30.0  # seconds to wait for a lock (only a WAL recovery or checkpoint holds one)


@dataclass(frozen=True, slots=True)
class Copied:
    dest: Path
    database: Path
    database_bytes: int
    secret_key: bool
    node_id: bool


def backup(
    ctx: typer.Context,
    dest: Annotated[
        Path, typer.Argument(metavar="DEST", help="A new (or empty) directory for the copy")
    ],
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help=r"The data dir to back up \[env WHETSTONE_DATA_DIR]"),
    ] = None,
) -> None:
    """Copy the database, secret.key and node.id of a data dir into DEST, consistently, even
    while the server runs. DEST is itself a data dir: serve it with --data-dir DEST."""
    session = Session.of(ctx)
    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    try:
        copied = copy_data_dir(settings, dest)
    except CliError as exc:
        session.fail(exc)
    out = session.out
    if out.json_mode:
        out.json(
            {
                "dest": str(copied.dest),
                "database": str(copied.database),
                "databaseBytes": copied.database_bytes,
                "secretKey": copied.secret_key,
                "nodeId": copied.node_id,
            }
        )
    else:
        what = [f"{DATABASE} ({copied.database_bytes:,} bytes)"]
        what += [SECRET] if copied.secret_key else []
        what += [NODE_ID] if copied.node_id else []
        out.line(f"Backed up {settings.data_dir} to {dest}: {', '.join(what)}")
    if settings.secret_key:
        out.note(
            "The server secret comes from WHETSTONE_SECRET_KEY, so no secret.key was copied: "
            "keep that value with the backup, or no API key in it will authenticate."
        )
    elif not copied.secret_key:
        out.note(
            f"No {SECRET} in {escape(str(settings.data_dir))}: if the server runs with "
            "WHETSTONE_SECRET_KEY, keep that value with the backup."
        )


def copy_data_dir(settings: Settings, dest: Path) -> Copied:
    source = _database_file(settings)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise CliError(
            f"{dest} exists and is not an empty directory.",
            "Give a new directory: a backup never overwrites anything.",
        )
    try:
        dest.mkdir(mode=0o700, parents=True, exist_ok=True)
        size = _copy_database(source, dest / DATABASE)
        secret = False if settings.secret_key else _copy_private(settings.data_dir, dest)
        node = (settings.data_dir / NODE_ID).is_file()
        if node:
            shutil.copyfile(settings.data_dir / NODE_ID, dest / NODE_ID)
    except OSError as exc:
        raise CliError(f"cannot write the backup to {dest}: {exc.strerror or exc}") from None
    return Copied(dest, source, size, secret, node)


def _database_file(settings: Settings) -> Path:
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        raise CliError(
            f"whetstone backup copies SQLite files; the database is {url.render_as_string()}.",
            "Back it up with that database's own tools, and keep secret.key (or "
            "WHETSTONE_SECRET_KEY) with it.",
        )
    path = Path(str(url.database))
    if not path.is_file():
        raise CliError(
            f"no database at {path}.",
            "Is --data-dir (or WHETSTONE_DATA_DIR) the data dir the server runs with?",
        )
    return path


def _copy_database(source: Path, target: Path) -> int:
    """``source`` into ``target`` in one step of the online backup API (one read transaction:
    writers carry on meanwhile), checked, then renamed into place. Returns its size."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            contextlib.closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT)) as src,
            contextlib.closing(sqlite3.connect(partial)) as dst,
        ):
            src.backup(dst)
            check = dst.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise CliError(f"the copy of {source} failed its integrity check: {check}")
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise CliError(f"cannot back up {source}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


def _copy_private(data_dir: Path, dest: Path) -> bool:
    """Copy ``secret.key`` readable by its owner only (0600); False if there is none."""
    source, target = data_dir / SECRET, dest / SECRET
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        return False
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    return True
