"""A job's config from ``--config FILE.json`` and the flags of ``optimize start``.

Flags win over the file. The file may use camelCase (the wire's) or snake_case keys; the
server validates the result and names any field that is out of range.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import typer

from whetstone.cli.errors import CliError

_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", re.IGNORECASE)
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def parse_metric(value: str) -> str | dict[str, Any]:
    """``name`` or ``name:weight``."""
    name, sep, weight = value.rpartition(":")
    if not sep:
        return value
    try:
        return {"name": name, "weight": float(weight)}
    except ValueError:
        raise typer.BadParameter(
            f"{value!r}: give a metric as NAME or NAME:WEIGHT, e.g. exact_match:2",
            param_hint="--metric",
        ) from None


def parse_duration_ms(value: str) -> int:
    """``90s``, ``10m``, ``1.5h``, ``500ms``; a plain number is seconds."""
    match = _DURATION.fullmatch(value)
    if match is None:
        raise typer.BadParameter(
            f"{value!r}: give a duration such as 90s, 10m, 1h or 500ms", param_hint="--timeout"
        )
    number, unit = float(match.group(1)), (match.group(2) or "s").lower()
    return round(number * _UNIT_MS[unit])


def parse_json_object(value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(
            f"not valid JSON ({exc.msg}): {value!r}", param_hint="--tuning"
        ) from None
    if not isinstance(parsed, dict):
        raise typer.BadParameter(
            f"give a JSON object, e.g. '{{\"valSize\": 8}}': {value!r}", param_hint="--tuning"
        )
    return parsed


def split_names(values: list[str] | None) -> list[str] | None:
    """Repeatable, comma-separated names as one list."""
    if not values:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read it ({exc})") from exc
    if not isinstance(value, dict):
        raise CliError(f'{path}: a config is a JSON object, e.g. {{"maxIterations": 5}}')
    return normalize(value)


def normalize(config: dict[str, Any]) -> dict[str, Any]:
    """camelCase keys at the top and in ``budget`` (the other objects are passed as given)."""
    out = {camel(k): v for k, v in config.items()}
    if isinstance(out.get("budget"), dict):
        out["budget"] = {camel(k): v for k, v in out["budget"].items()}
    return out


def merge(base: dict[str, Any], flags: dict[str, Any], budget: dict[str, Any]) -> dict[str, Any]:
    """``base`` (from a file) overridden by the flags that were given (not None)."""
    config = dict(base)
    config.update({k: v for k, v in flags.items() if v is not None})
    given = {k: v for k, v in budget.items() if v is not None}
    if given:
        old = config.get("budget")
        config["budget"] = {**(old if isinstance(old, dict) else {}), **given}
    return config
