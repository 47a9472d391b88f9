"""The docs keep up with the contract and the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from whetstone.domain.codec import EVENT_TYPES
from whetstone.domain.config import JobConfig
from whetstone.errors import ERRORS_BY_CODE

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()
OWN_DOCS = "\n".join(p.read_text() for p in (ROOT / "docs").glob("*.md") if p.name != "protocol.md")


def _section(title: str) -> str:
    start = PROTOCOL.index(title)
    end = PROTOCOL.find("\n## ", start + 1)
    return PROTOCOL[start : end if end != -1 else None]


def _first_column(text: str) -> list[str]:
    return re.findall(r"^\| `([a-zA-Z_]+)`", text, flags=re.M)


def test_protocol_copy_matches_the_shared_contract() -> None:
    shared = ROOT.parent / "shared" / "PROTOCOL.md"
    if not shared.exists():
        pytest.skip("no shared/ beside this checkout")
    assert shared.read_text() == PROTOCOL


def test_every_event_type_of_the_protocol_is_documented_and_implemented() -> None:
    names = _first_column(_section("**Event**"))
    assert len(names) == 12
    assert set(names) == set(EVENT_TYPES.values())
    for name in names:
        assert f"`{name}`" in OWN_DOCS, name


def test_every_config_field_of_the_protocol_is_documented_and_implemented() -> None:
    table = _section("**config**")
    cells = re.findall(r"^\| ([^|]*`[^|]*)\|", table, flags=re.M)
    names = {n for cell in cells for n in re.findall(r"`(\w+)`", cell)}
    assert len(names) == 20
    wire = set(JobConfig().to_wire())
    assert names <= wire, names - wire
    for name in names:
        assert f"`{name}`" in OWN_DOCS, name


def test_every_error_code_of_the_protocol_is_documented_and_implemented() -> None:
    codes = re.findall(r"\b[45]\d\d\s+`(\w+)`", PROTOCOL)
    assert len(codes) == 7
    for code in codes:
        assert code in ERRORS_BY_CODE
        assert f"`{code}`" in OWN_DOCS, code


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    test_command = next(b.strip() for b in blocks if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text()
