"""``whetstone datasets create|import|list|items`` against a real server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli, assert_clean_failure, dead_url, invoke
from tests.support.api import Api


def jsonl(path: Path, count: int) -> Path:
    lines = [
        json.dumps({"question": f"{n}+{n}", "expectedOutput": str(2 * n)}) for n in range(count)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


async def test_create_from_a_file_then_import_list_and_items(cli: Cli, tmp_path: Path) -> None:
    made = json.loads(
        (
            await cli.ok(
                "datasets", "create", "arith", "-f", str(jsonl(tmp_path / "a.jsonl", 3)), "--json"
            )
        ).stdout
    )
    assert made["itemCount"] == 3
    csv = tmp_path / "more.csv"
    csv.write_text("question,expected_output\n10+10,20\n11+11,\n")
    imported = await cli.ok("datasets", "import", made["id"], str(csv))
    assert f"Added 2 items from {csv}" in imported.stdout
    assert "it has 5 now" in imported.stdout

    listed = await cli.ok("datasets", "list")
    assert made["id"] in listed.stdout
    assert "arith" in listed.stdout

    shown = await cli.ok("datasets", "items", made["id"], "--limit", "2", "--offset", "3")
    assert "10+10" in shown.stdout
    assert "11+11" in shown.stdout
    assert "0+0" not in shown.stdout

    page = json.loads((await cli.ok("datasets", "items", made["id"], "--all", "--json")).stdout)
    assert page["total"] == 5
    assert page["items"][3]["input"] == {"question": "10+10"}
    assert page["items"][3]["expectedOutput"] == "20"
    assert "expectedOutput" not in page["items"][4] or page["items"][4]["expectedOutput"] is None


async def test_an_export_imports_again(cli: Cli, tmp_path: Path) -> None:
    source = json.loads(
        (
            await cli.ok(
                "datasets", "create", "src", "-f", str(jsonl(tmp_path / "s.jsonl", 4)), "--json"
            )
        ).stdout
    )
    export = tmp_path / "export.json"
    export.write_text((await cli.ok("datasets", "items", source["id"], "--json")).stdout)
    copy = json.loads(
        (await cli.ok("datasets", "create", "copy", "-f", str(export), "--json")).stdout
    )
    assert copy["itemCount"] == 4


async def test_large_files_go_in_batches(cli: Cli, tmp_path: Path) -> None:
    made = json.loads(
        (
            await cli.ok(
                "datasets", "create", "big", "-f", str(jsonl(tmp_path / "b.jsonl", 2500)), "--json"
            )
        ).stdout
    )
    assert made["itemCount"] == 2500
    added = json.loads(
        (
            await cli.ok(
                "datasets", "import", made["id"], str(jsonl(tmp_path / "c.jsonl", 1001)), "--json"
            )
        ).stdout
    )
    assert added["added"] == 1001
    assert added["dataset"]["itemCount"] == 3501


async def test_a_bad_file_names_its_line_and_sends_nothing(
    cli: Cli, api: Api, tmp_path: Path
) -> None:
    made = json.loads((await cli.ok("datasets", "create", "d", "--json")).stdout)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": "1"}\n{"q": "2"}\n{"q": "3"\n')
    result = await cli.run("datasets", "import", made["id"], str(bad))
    assert_clean_failure(result, f"{bad}, line 3: not valid JSON")
    after = await api.call("GET", f"/api/datasets/{made['id']}")
    assert after["data"]["itemCount"] == 0

    create = await cli.run("datasets", "create", "e", "--file", str(bad))
    assert_clean_failure(create, "line 3")
    names = [d["name"] for d in (await api.call("GET", "/api/datasets"))["data"]]
    assert "e" not in names

    unknown = await cli.run("datasets", "import", made["id"], str(bad), "--format", "xml")
    assert_clean_failure(unknown, "unknown format 'xml'")


async def test_unknown_dataset(cli: Cli, tmp_path: Path) -> None:
    result = await cli.run("datasets", "items", "ds_nope")
    assert_clean_failure(result, "dataset 'ds_nope' not found")
    imported = await cli.run("datasets", "import", "ds_nope", str(jsonl(tmp_path / "x.jsonl", 1)))
    assert_clean_failure(imported, "dataset 'ds_nope' not found")


def test_server_down(tmp_path: Path) -> None:
    url = dead_url()
    for command in (["datasets", "list"], ["datasets", "items", "ds_x"]):
        assert_clean_failure(invoke("--url", url, *command), f"at {url}", "whetstone serve")
    path = jsonl(tmp_path / "ok.jsonl", 1)
    assert_clean_failure(invoke("--url", url, "datasets", "import", "ds_x", str(path)), url)
