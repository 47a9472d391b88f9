"""Dataset items from files: JSON Lines, CSV or JSON. A mistake names the file and the line.

- **JSONL** (``.jsonl``, ``.ndjson``): one item per line; blank lines are skipped.
- **JSON** (``.json``): a list of items, or an object with an ``items`` list (what
  ``whetstone datasets items --json`` prints, so an export imports again).
- **CSV** (``.csv``): a header row; every column is an input variable, except
  ``expected_output`` (or ``expectedOutput``), which is the expected output (an empty cell:
  none).

A JSON item is ``{"input": {…}, "expectedOutput": …, "metadata": {…}}`` (``expected_output``
is accepted too, an ``id`` is ignored), or flat: ``{"question": "2+2", "expectedOutput": "4"}``,
where every other key is an input variable. Variable names are identifiers, as in templates.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whetstone.cli.errors import CliError

FORMATS = ("jsonl", "csv", "json")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".json": "json"}
EXPECTED = ("expectedOutput", "expected_output")
_STRUCTURED = {"input", "metadata", "id", *EXPECTED}
_WHITESPACE = re.compile(r"[ \t\n\r]*")

Item = dict[str, Any]


class ItemFileError(CliError):
    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(
            f"{where}: {problem}",
            "See `whetstone datasets import --help` for the file formats.",
            details={"file": str(path), "line": line},
        )


def file_format(path: Path, given: str | None) -> str:
    if given is not None:
        return given
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise ItemFileError(
            path, None, f"cannot tell the format from the name; pass --format ({'/'.join(FORMATS)})"
        )
    return found


def read_items(path: Path, fmt: str | None = None) -> list[Item]:
    """Every item of the file, as wire objects for the API."""
    kind = file_format(path, fmt)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ItemFileError(path, None, f"not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise ItemFileError(path, None, f"cannot read it ({exc.strerror or exc})") from exc
    readers = {"jsonl": _jsonl, "json": _json, "csv": _csv}
    items = list(readers[kind](path, text))
    if not items:
        raise ItemFileError(path, None, "no items in the file")
    return items


def _jsonl(path: Path, text: str) -> Iterator[Item]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ItemFileError(
                path, number, f"not valid JSON ({exc.msg}, column {exc.colno})"
            ) from exc
        yield from_object(path, number, value)


def _json(path: Path, text: str) -> Iterator[Item]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ItemFileError(
            path, exc.lineno, f"not valid JSON ({exc.msg}, column {exc.colno})"
        ) from exc
    if isinstance(document, list):
        start = _skip(text, 0)
    elif isinstance(document, dict) and isinstance(document.get("items"), list):
        start = _member(text, "items")
    else:
        raise ItemFileError(path, 1, 'expected a list of items, or an object with an "items" list')
    for line, value in _elements(text, start):
        yield from_object(path, line, value)


def _skip(text: str, at: int) -> int:
    match = _WHITESPACE.match(text, at)
    return match.end() if match else at


def _member(text: str, name: str) -> int:
    """Where the value of the top-level object's (last) ``name`` member starts."""
    decoder, found = json.JSONDecoder(), -1
    at = _skip(text, _skip(text, 0) + 1)
    while text[at] != "}":
        key, at = decoder.raw_decode(text, at)
        at = _skip(text, _skip(text, at) + 1)  # past the colon
        if key == name:
            found = at
        _, at = decoder.raw_decode(text, at)
        at = _skip(text, at)
        if text[at] == ",":
            at = _skip(text, at + 1)
    return found


def _elements(text: str, start: int) -> Iterator[tuple[int, Any]]:
    """The elements of the (valid) JSON array at ``start``, each with its line."""
    decoder = json.JSONDecoder()
    line, counted = 1, 0
    at = _skip(text, start + 1)
    while text[at] != "]":
        line += text.count("\n", counted, at)
        counted = at
        value, at = decoder.raw_decode(text, at)
        yield line, value
        at = _skip(text, at)
        if text[at] == ",":
            at = _skip(text, at + 1)


def from_object(path: Path, line: int, value: Any) -> Item:
    """One item from a JSON value, checked."""
    if not isinstance(value, dict):
        raise ItemFileError(path, line, f"an item must be a JSON object, not {_kind(value)}")
    if sum(key in value for key in EXPECTED) > 1:
        raise ItemFileError(path, line, "give expectedOutput or expected_output, not both")
    expected = next((value[key] for key in EXPECTED if key in value), None)
    if "input" in value:
        extra = sorted(set(value) - _STRUCTURED)
        if extra:
            raise ItemFileError(
                path,
                line,
                f"unknown field(s) {', '.join(extra)}: an item has input, expectedOutput and "
                "metadata (or give the variables flat, without 'input')",
            )
        inputs = value["input"]
        if not isinstance(inputs, dict):
            raise ItemFileError(path, line, f'"input" must be an object, not {_kind(inputs)}')
    else:
        inputs = {k: v for k, v in value.items() if k not in _STRUCTURED}
    metadata = value.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise ItemFileError(path, line, f'"metadata" must be an object, not {_kind(metadata)}')
    return _item(path, line, inputs, expected, metadata)


def _item(path: Path, line: int, inputs: dict[str, Any], expected: Any, metadata: Any) -> Item:
    if not inputs:
        raise ItemFileError(path, line, "the item has no input variables")
    bad = [name for name in inputs if not name.isidentifier()]
    if bad:
        raise ItemFileError(
            path,
            line,
            f"{bad[0]!r} is not a variable name (letters, digits and _, not starting with a "
            "digit), so no template could use it",
        )
    item: Item = {"input": inputs}
    if expected is not None:
        item["expectedOutput"] = expected
    if metadata is not None:
        item["metadata"] = metadata
    return item


def _csv(path: Path, text: str) -> Iterator[Item]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(name.strip() for name in header):
            raise ItemFileError(path, 1, "no header: the first row must name the columns")
        header = [name.strip() for name in header]
        expected_at = _check_header(path, header)
        start = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                yield _row(path, start, header, row, expected_at)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ItemFileError(path, reader.line_num, f"not valid CSV ({exc})") from exc


def _check_header(path: Path, header: list[str]) -> int | None:
    seen: set[str] = set()
    for number, name in enumerate(header, start=1):
        if not name:
            raise ItemFileError(path, 1, f"column {number} of the header has no name")
        if name in seen:
            raise ItemFileError(path, 1, f"column {name!r} appears twice in the header")
        seen.add(name)
    found = [i for i, name in enumerate(header) if name in EXPECTED]
    if len(found) > 1:
        raise ItemFileError(
            path, 1, "give an expectedOutput or an expected_output column, not both"
        )
    return found[0] if found else None


def _row(path: Path, line: int, header: list[str], row: list[str], expected_at: int | None) -> Item:
    if len(row) != len(header):
        raise ItemFileError(
            path, line, f"{len(row)} values, but the header has {len(header)} columns"
        )
    inputs = {
        name: cell
        for i, (name, cell) in enumerate(zip(header, row, strict=True))
        if i != expected_at
    }
    expected = row[expected_at] if expected_at is not None and row[expected_at] != "" else None
    return _item(path, line, inputs, expected, None)


def _kind(value: Any) -> str:
    names = {list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "that")
