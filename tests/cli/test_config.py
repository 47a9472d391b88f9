"""Turning ``optimize start`` flags and ``--config`` files into a job config."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from whetstone.cli.config import (
    merge,
    normalize,
    parse_duration_ms,
    parse_json_object,
    parse_metric,
    read_config_file,
    split_names,
)
from whetstone.cli.errors import CliError


def test_metrics_are_names_or_weighted() -> None:
    assert parse_metric("exact_match") == "exact_match"
    assert parse_metric("token_f1:2.5") == {"name": "token_f1", "weight": 2.5}
    with pytest.raises(typer.BadParameter, match="NAME:WEIGHT"):
        parse_metric("token_f1:heavy")


@pytest.mark.parametrize(
    ("text", "ms"),
    [("90", 90_000), ("90s", 90_000), ("10m", 600_000), ("1.5h", 5_400_000), ("500ms", 500)],
)
def test_durations(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


def test_bad_durations_and_tuning() -> None:
    with pytest.raises(typer.BadParameter, match="90s, 10m"):
        parse_duration_ms("soon")
    assert parse_json_object('{"valSize": 8}') == {"valSize": 8}
    with pytest.raises(typer.BadParameter, match="not valid JSON"):
        parse_json_object("{valSize: 8}")
    with pytest.raises(typer.BadParameter, match="JSON object"):
        parse_json_object("[1]")


def test_names_split_on_commas_and_repeats() -> None:
    assert split_names(["reflective,rephrase", " compress "]) == [
        "reflective",
        "rephrase",
        "compress",
    ]
    assert split_names(None) is None


def test_files_are_camel_cased_and_flags_win(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"max_iterations": 3, "dry_run": true, "budget": {"max_llm_calls": 50}}')
    base = read_config_file(path)
    assert base == {"maxIterations": 3, "dryRun": True, "budget": {"maxLlmCalls": 50}}
    merged = merge(base, {"maxIterations": 7, "seed": None}, {"maxCostUsd": 1.5, "maxTokens": None})
    assert merged == {
        "maxIterations": 7,
        "dryRun": True,
        "budget": {"maxLlmCalls": 50, "maxCostUsd": 1.5},
    }
    assert normalize({"tuning_params": {"sim_latency_ms": 1}}) == {
        "tuningParams": {"sim_latency_ms": 1}  # options of strategies pass as given
    }


def test_bad_config_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "maxIterations": 3,\n}')
    with pytest.raises(CliError, match=r"broken.json, line 3: not valid JSON"):
        read_config_file(broken)
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    with pytest.raises(CliError, match="a config is a JSON object"):
        read_config_file(listed)
