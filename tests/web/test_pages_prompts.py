"""Browser tests of the prompt pages: the list, version history, diffs, new versions."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tests.web.support import WebServer

if TYPE_CHECKING:
    from tests.web.conftest import ConsoleLog

if os.environ.get("WHETSTONE_REQUIRE_BROWSER") != "1":
    pytest.importorskip("playwright", reason="Playwright is not installed")

from playwright.sync_api import Page, expect

V1 = "You are a careful assistant.\nAnswer: {question}\nBe brief."
V2 = "You are a careful assistant.\nAnswer the question: {question}\nBe brief."
V3 = "You are a careful assistant.\nAnswer the question: {question}\nShow your work.\nBe brief."


def _prompt_with_versions(web_server: WebServer) -> str:
    prompt_id = web_server.create_prompt(template=V1, name="careful")
    for text, note in ((V2, "clearer ask"), (V3, "show work")):
        response = web_server.http(
            "POST",
            f"/api/prompts/{prompt_id}/versions",
            json={"template": text, "description": note},
        )
        assert response.status_code == 201, response.text
    return prompt_id


def _diff_lines(page: Page, cls: str) -> list[str]:
    return page.get_by_test_id("diff").locator(f".{cls}").all_inner_texts()


def test_prompts_list_shows_latest_version(page: Page, web_server: WebServer) -> None:
    prompt_id = _prompt_with_versions(web_server)
    page.goto("/prompts")
    row = page.get_by_test_id("prompt-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("careful")
    expect(row).to_contain_text("v3")
    expect(row).to_contain_text("user")
    expect(row).to_contain_text("{question}")
    row.get_by_role("link", name="careful").click()
    expect(page).to_have_url(re.compile(r"/prompts/[^/]+$"))
    expect(page.get_by_test_id("version-row")).to_have_count(3)

    # "Optimize…" opens the new-job form with this prompt (its latest version) chosen.
    latest = web_server.http("GET", f"/api/prompts/{prompt_id}/versions").json()["data"][-1]
    page.get_by_test_id("optimize-prompt").click()
    expect(page).to_have_url(re.compile(r"/new\?promptId="))
    expect(page.get_by_test_id("prompt-select")).to_have_value(latest["id"])


def test_prompt_page_lists_versions_and_diffs_any_two(page: Page, web_server: WebServer) -> None:
    prompt_id = _prompt_with_versions(web_server)
    page.goto(f"/prompts/{prompt_id}")

    rows = page.get_by_test_id("version-row")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("v3")  # newest first
    expect(rows.first).to_contain_text("show work")
    expect(rows.last).to_contain_text("v1")
    # The URL names v1's id, so v1 is the version shown.
    expect(page.get_by_test_id("version-text")).to_have_text(V1)

    # By default: the latest version against the one before it.
    expect(page.get_by_test_id("diff").locator(".diff-add")).to_have_count(1)
    assert _diff_lines(page, "diff-add") == ["+ Show your work."]
    assert _diff_lines(page, "diff-del") == []

    versions = web_server.http("GET", f"/api/prompts/{prompt_id}/versions").json()["data"]
    ids = {v["version"]: v["id"] for v in versions}
    page.get_by_test_id("version-a").select_option(ids[1])
    page.get_by_test_id("version-b").select_option(ids[3])
    expect(page.get_by_test_id("diff").locator(".diff-del")).to_have_count(1)
    assert _diff_lines(page, "diff-del") == ["- Answer: {question}"]
    assert _diff_lines(page, "diff-add") == [
        "+ Answer the question: {question}",
        "+ Show your work.",
    ]
    assert _diff_lines(page, "diff-ctx") == ["  You are a careful assistant.", "  Be brief."]

    # Swapped: additions become deletions.
    page.get_by_test_id("version-a").select_option(ids[3])
    page.get_by_test_id("version-b").select_option(ids[1])
    expect(page.get_by_test_id("diff").locator(".diff-add")).to_have_count(1)
    assert _diff_lines(page, "diff-add") == ["+ Answer: {question}"]

    # The same version on both sides: no differences.
    page.get_by_test_id("version-b").select_option(ids[3])
    expect(page.get_by_test_id("diff")).to_have_class(re.compile(r"diff-same"))

    page.get_by_test_id("view-version-2").click()
    expect(page.get_by_test_id("version-text")).to_have_text(V2)


def test_new_version_form_adds_a_version(
    page: Page, web_server: WebServer, console: ConsoleLog
) -> None:
    prompt_id = web_server.create_prompt(template=V1, name="growing")
    page.goto(f"/prompts/{prompt_id}")
    expect(page.get_by_test_id("version-row")).to_have_count(1)
    editor = page.get_by_test_id("new-version-text")
    expect(editor).to_have_value(V1)
    editor.fill(V1 + "\nThink step by step.")
    page.get_by_test_id("new-version-description").fill("step by step")
    page.get_by_test_id("create-version").click()

    expect(page.get_by_test_id("version-row")).to_have_count(2)
    expect(page.get_by_test_id("version-text")).to_contain_text("Think step by step.")
    assert _diff_lines(page, "diff-add") == ["+ Think step by step."]
    versions = web_server.http("GET", f"/api/prompts/{prompt_id}/versions").json()["data"]
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["description"] == "step by step"

    # A template the server refuses (a lone brace): its message shows, nothing is added.
    console.allow(r"status of 400 .*/api/prompts/[^/]+/versions")
    editor.fill("Broken { template")
    page.get_by_test_id("create-version").click()
    expect(page.get_by_test_id("new-version-error")).to_contain_text("template")
    expect(page.get_by_test_id("version-row")).to_have_count(2)


def test_optimization_versions_link_to_their_job(
    page: Page, web_server: WebServer, seed: Callable[[WebServer], tuple[str, str]]
) -> None:
    prompt_id, dataset_id = seed(web_server)
    job = web_server.start_job(prompt_id, dataset_id)
    results = web_server.wait_job(job.id)
    assert results is not None
    # The seeded simulated run improves on the sample prompt, so it adds version 2.
    assert results.result_prompt_id != prompt_id
    page.goto(f"/prompts/{prompt_id}")
    rows = page.get_by_test_id("version-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("optimization")
    rows.first.get_by_test_id("job-link").click()
    expect(page).to_have_url(re.compile(rf"/optimizations/{job.id}$"))
    expect(page.get_by_test_id("job-status")).to_be_visible()


def test_unknown_prompt_and_dataset_show_not_found(page: Page, console: ConsoleLog) -> None:
    console.allow(r"status of 404 .*/api/(prompts|datasets)/")
    page.goto("/prompts/prm_doesnotexist")
    expect(page.get_by_test_id("not-found")).to_be_visible()
    page.goto("/datasets/ds_doesnotexist")
    expect(page.get_by_test_id("not-found")).to_be_visible()


def test_prompts_list_pages_past_fifty(page: Page, web_server: WebServer) -> None:
    for n in range(51):
        web_server.create_prompt(name=f"p{n:02d}")
    page.goto("/prompts")
    expect(page.get_by_test_id("prompt-row")).to_have_count(50)
    expect(page.get_by_text("1\u201350 of 51")).to_be_visible()
    previous = page.get_by_role("button", name="← Previous")
    expect(previous).to_be_disabled()
    page.get_by_role("button", name="Next →").click()
    expect(page.get_by_test_id("prompt-row")).to_have_count(1)
    expect(page.get_by_text("51\u201351 of 51")).to_be_visible()
    expect(page.get_by_role("button", name="Next →")).to_be_disabled()
    previous.click()
    expect(page.get_by_test_id("prompt-row")).to_have_count(50)
