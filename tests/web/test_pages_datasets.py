"""Browser tests of the dataset pages: the paged items table and creating from JSONL."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from tests.web.support import WebServer

if os.environ.get("WHETSTONE_REQUIRE_BROWSER") != "1":
    pytest.importorskip("playwright", reason="Playwright is not installed")

from playwright.sync_api import Page, expect

DASH = "\N{EN DASH}"  # in the pager's ranges, "1<en dash>50 of 120"


def _items(n: int) -> list[dict[str, Any]]:
    return [{"input": {"question": f"q{i}"}, "expectedOutput": str(i)} for i in range(n)]


def test_dataset_page_pages_through_120_items(page: Page, web_server: WebServer) -> None:
    dataset_id = web_server.create_dataset(items=_items(120), name="hundred-twenty")
    page.goto(f"/datasets/{dataset_id}")

    table = page.get_by_test_id("items-table")
    rows = table.get_by_test_id("item-row")
    expect(page.get_by_role("heading", name="hundred-twenty")).to_be_visible()
    expect(page.get_by_test_id("dataset-item-count")).to_have_text("120 items")
    expect(rows).to_have_count(50)
    expect(page.get_by_test_id("items-range")).to_have_text(f"1{DASH}50 of 120")
    expect(rows.first).to_contain_text('"q0"')
    expect(page.get_by_test_id("items-prev")).to_be_disabled()

    page.get_by_test_id("items-next").click()
    expect(page.get_by_test_id("items-range")).to_have_text(f"51{DASH}100 of 120")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text('"q50"')
    expect(rows.first).to_contain_text("51")

    page.get_by_test_id("items-next").click()
    expect(page.get_by_test_id("items-range")).to_have_text(f"101{DASH}120 of 120")
    expect(rows).to_have_count(20)
    expect(rows.last).to_contain_text('"q119"')
    expect(page.get_by_test_id("items-next")).to_be_disabled()

    page.get_by_test_id("items-prev").click()
    expect(page.get_by_test_id("items-range")).to_have_text(f"51{DASH}100 of 120")
    expect(rows.first).to_contain_text('"q50"')

    page.get_by_test_id("optimize-dataset").click()
    expect(page).to_have_url(re.compile(r"/new\?datasetId="))
    expect(page.get_by_test_id("dataset-select")).to_have_value(dataset_id)


def test_create_dataset_by_pasting_jsonl_then_add_items(page: Page, web_server: WebServer) -> None:
    page.goto("/datasets")
    expect(page.get_by_text("No datasets yet")).to_be_visible()
    jsonl = "\n".join(
        [
            '{"input": {"question": "2+2"}, "expectedOutput": "4"}',
            "",
            '{"input": {"question": "3*3"}, "expectedOutput": "9", "metadata": {"level": 1}}',
            '{"input": {"question": "10/2"}, "expected_output": {"value": 5}}',
        ]
    )
    page.get_by_test_id("dataset-name").fill("pasted")
    page.get_by_test_id("dataset-items").fill(jsonl)
    page.get_by_test_id("create-dataset").click()

    expect(page).to_have_url(re.compile(r"/datasets/[^/]+$"))
    dataset_id = page.url.rsplit("/", 1)[1]
    rows = page.get_by_test_id("items-table").get_by_test_id("item-row")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text('"level"')
    expect(rows.nth(2)).to_contain_text('"value"')

    stored = web_server.http("GET", f"/api/datasets/{dataset_id}/items").json()["data"]
    assert [item["input"]["question"] for item in stored] == ["2+2", "3*3", "10/2"]
    assert stored[2]["expectedOutput"] == {"value": 5}

    page.get_by_test_id("add-items").fill('[{"input": {"question": "1+1"}, "expectedOutput": "2"}]')
    page.get_by_test_id("add-items-submit").click()
    expect(page.get_by_test_id("add-items-status")).to_have_text("Added 1 item.")
    expect(page.get_by_test_id("dataset-item-count")).to_have_text("4 items")
    expect(rows).to_have_count(4)

    page.goto("/datasets")
    row = page.get_by_test_id("dataset-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("pasted")
    expect(row).to_contain_text("4")


def test_bad_jsonl_names_the_line_and_creates_nothing(page: Page, web_server: WebServer) -> None:
    page.goto("/datasets")
    page.get_by_test_id("dataset-name").fill("broken")
    page.get_by_test_id("dataset-items").fill('{"input": {"q": "a"}}\n{"input": {"q": "b"},}\n')
    page.get_by_test_id("create-dataset").click()
    expect(page.get_by_test_id("dataset-form-error")).to_contain_text("line 2")

    page.get_by_test_id("dataset-items").fill('{"question": "no input wrapper"}')
    page.get_by_test_id("create-dataset").click()
    expect(page.get_by_test_id("dataset-form-error")).to_contain_text('line 1: needs "input"')

    assert web_server.http("GET", "/api/datasets").json()["meta"]["total"] == 0


def test_datasets_list_pages_past_fifty(page: Page, web_server: WebServer) -> None:
    for n in range(51):
        web_server.create_dataset(name=f"d{n:02d}")
    page.goto("/datasets")
    rows = page.get_by_test_id("datasets-table").locator("tbody tr")
    expect(rows).to_have_count(50)
    expect(page.get_by_text("1\u201350 of 51")).to_be_visible()
    page.get_by_role("button", name="Next →").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_text("51\u201351 of 51")).to_be_visible()
    page.get_by_role("button", name="← Previous").click()
    expect(rows).to_have_count(50)
