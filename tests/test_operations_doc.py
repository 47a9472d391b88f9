"""docs/operations.md keeps up with the code: every setting is in its table with the right
variable and default, and every fixed limit it cites by ``module.py:NAME`` has the value the
module has (the way tests/test_docs.py keeps the other docs honest)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from pydantic.fields import FieldInfo

from whetstone.server.app import create_app
from whetstone.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "operations.md").read_text()


def _section(title: str) -> str:
    start = DOC.index(f"\n{title}\n") + len(title) + 2
    end = re.search(r"^#{2,3} ", DOC[start:], flags=re.M)  # the next section or subsection
    return DOC[start : start + end.start() if end else None]


def _rows(section: str) -> list[list[str]]:
    """The body rows of the markdown tables in ``section``, as lists of cells."""
    rows = []
    for line in section.splitlines():
        if line.startswith("|") and not re.match(r"^\|\s*-", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[1:]  # without the header


def _settings_rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for cells in _rows(_section("### Settings")):
        name = re.fullmatch(r"`(\w+)`", cells[0])
        assert name, cells
        assert name.group(1) not in rows, f"{name.group(1)} is in the table twice"
        rows[name.group(1)] = cells
    return rows


def _default_documented(field: FieldInfo, cell: str) -> bool:
    if field.default_factory is not None:
        return True  # computed (the per-user data dir, an empty price table)
    default = field.default
    if default is None or default == "":
        return cell.startswith("none")
    shown = re.search(r"`([^`]*)`", cell)
    if shown is None:
        return False
    text = shown.group(1)
    if isinstance(default, bool):
        return text == str(default).lower()
    if isinstance(default, int | float):
        return float(text) == default
    return bool(text == default)


def test_every_setting_is_in_the_table_with_its_variable_and_default() -> None:
    rows = _settings_rows()
    fields = Settings.model_fields
    assert set(rows) == set(fields), (set(fields) - set(rows), set(rows) - set(fields))
    for name, (_, variable, default, meaning) in rows.items():
        assert variable == f"`WHETSTONE_{name.upper()}`", name
        assert _default_documented(fields[name], default), (name, default)
        assert meaning, name


def test_every_cited_constant_has_the_documented_value() -> None:
    cited = 0
    for cells in _rows(_section("### Fixed limits")):
        for module, name in re.findall(r"`([\w/]+)\.py:([A-Z_]+)`", cells[2]):
            value = getattr(importlib.import_module("whetstone." + module.replace("/", ".")), name)
            number = re.search(r"\d[\d,]*", cells[1])
            assert number is not None, cells
            assert int(number.group().replace(",", "")) == value, (module, name, cells[1])
            cited += 1
    assert cited >= 6


def test_the_page_size_limits_are_the_served_ones(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 32, run_jobs=False))
    maxima = {
        param["schema"]["maximum"]
        for path in app.openapi()["paths"].values()
        for operation in path.values()
        for param in operation.get("parameters", [])
        if param["name"] == "limit"
    }
    assert maxima == {500, 5000}
    [row] = [cells for cells in _rows(_section("### Fixed limits")) if "`limit`" in cells[0]]
    assert "1\N{EN DASH}500 " in row[1]
    assert "1\N{EN DASH}5,000 " in row[1]
