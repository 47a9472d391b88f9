"""``whetstone prompts create|list|show|versions`` against a real server."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli, assert_clean_failure, dead_url, invoke
from tests.support.api import Api


async def test_create_show_list_and_versions(cli: Cli, api: Api) -> None:
    made = await cli.ok("prompts", "create", "qa", "--template", "Answer: {question} [{{x}}]")
    assert "Created prompt qa (prm_" in made.stdout
    assert "Variables: question" in made.stdout
    prompt_id = made.stdout.split("(")[1].split(")")[0]
    await api.call(
        "POST", f"/api/prompts/{prompt_id}/versions", 201, json={"template": "Reply: {question}"}
    )

    shown = await cli.ok("prompts", "show", prompt_id)
    assert "Answer: {question} [{{x}}]" in shown.stdout  # printed as text, not as Rich markup
    assert "Version" in shown.stdout

    listed = await cli.ok("prompts", "list")
    assert "qa" in listed.stdout
    assert "2" in listed.stdout  # the latest version

    versions = await cli.ok("prompts", "versions", prompt_id, "--json")
    found = json.loads(versions.stdout)
    assert [p["version"] for p in found] == [1, 2]
    assert found[1]["isLatest"] is True
    assert found[1]["template"] == "Reply: {question}"


async def test_json_output_parses_and_is_alone_on_stdout(cli: Cli) -> None:
    made = json.loads((await cli.ok("--json", "prompts", "create", "j", "-t", "Hi {name}")).stdout)
    assert made["name"] == "j"
    assert made["variables"] == ["name"]
    assert made["version"] == 1
    page = json.loads((await cli.ok("prompts", "list", "--name", "j", "--json")).stdout)
    assert [p["id"] for p in page["items"]] == [made["id"]]
    assert page["total"] == 1
    assert page["hasMore"] is False
    shown = json.loads((await cli.ok("prompts", "show", made["id"], "--json")).stdout)
    assert shown["id"] == made["id"]


async def test_create_from_files(cli: Cli, tmp_path: Path) -> None:
    text = tmp_path / "prompt.txt"
    text.write_text("Translate {text} into {language}.\n")
    chat = tmp_path / "chat.json"
    chat.write_text(
        json.dumps(
            [
                {"role": "system", "content": "You translate."},
                {"role": "user", "content": "{text}"},
            ]
        )
    )
    from_text = json.loads(
        (await cli.ok("prompts", "create", "t", "-f", str(text), "--json")).stdout
    )
    assert from_text["template"] == "Translate {text} into {language}.\n"
    assert from_text["variables"] == ["text", "language"]
    from_chat = json.loads(
        (await cli.ok("prompts", "create", "c", "--file", str(chat), "--tag", "x", "--json")).stdout
    )
    assert from_chat["messages"][0] == {"role": "system", "content": "You translate."}
    assert from_chat["tags"] == ["x"]


async def test_errors(cli: Cli, tmp_path: Path) -> None:
    unknown = await cli.run("prompts", "show", "prm_nope")
    assert_clean_failure(unknown, "prompt 'prm_nope' not found", "whetstone prompts list")
    assert unknown.stdout == ""

    as_json = await cli.run("prompts", "versions", "prm_nope", "--json")
    assert as_json.exit_code == 1
    assert as_json.stdout == ""
    assert json.loads(as_json.stderr)["error"]["code"] == "not_found"

    await cli.ok("prompts", "create", "twice", "-t", "x {y}")
    again = await cli.run("prompts", "create", "twice", "-t", "x {y}")
    assert_clean_failure(again, "exists already")

    neither = await cli.run("prompts", "create", "n")
    assert_clean_failure(neither, "--template TEXT or --file PATH")

    bad = tmp_path / "bad.json"
    bad.write_text('{"template": "x",\n  oops}')
    broken = await cli.run("prompts", "create", "b", "-f", str(bad))
    assert_clean_failure(broken, f"{bad}, line 2: not valid JSON")


def test_server_down_names_the_url_and_serve() -> None:
    url = dead_url()
    for command in (
        ["prompts", "list"],
        ["prompts", "show", "prm_x"],
        ["prompts", "create", "a", "-t", "b"],
    ):
        result = invoke("--url", url, *command)
        assert_clean_failure(
            result, f"cannot reach the Whetstone server at {url}", "whetstone serve"
        )


async def test_missing_and_refused_keys(cli: Cli) -> None:
    none = await cli.run("prompts", "list", key=False)
    assert_clean_failure(none, f"the server at {cli.url} needs an API key", "--api-key")
    wrong = await Cli(cli.url, "wst_abc_def").run("prompts", "list")
    assert_clean_failure(wrong, "refused the API key from --api-key")
