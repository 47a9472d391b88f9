"""Browser tests of the new-job form: a dry run from the form, client-side and server-side
field errors (no job made), and creating the prompt and dataset inline."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tests.web.support import WebServer

if os.environ.get("WHETSTONE_REQUIRE_BROWSER") != "1":
    pytest.importorskip("playwright", reason="Playwright is not installed")

from playwright.sync_api import Page, expect

if TYPE_CHECKING:
    from tests.web.conftest import ConsoleLog

Seed = Callable[[WebServer], tuple[str, str]]
JOB_URL = re.compile(r"/optimizations/([^/?#]+)$")


def _job_count(web_server: WebServer) -> int:
    total: int = web_server.http("GET", "/api/optimizations").json()["meta"]["total"]
    return total


def _job_id(page: Page) -> str:
    match = JOB_URL.search(page.url)
    assert match, page.url
    return match.group(1)


def test_dry_run_job_from_the_form_lands_on_the_job_page(
    page: Page, web_server: WebServer, seed: Seed
) -> None:
    prompt_id, dataset_id = seed(web_server)
    page.goto("/new")
    expect(page.get_by_test_id("new-job-form")).to_be_visible()
    expect(page.get_by_test_id("dry-run")).to_be_checked()  # on by default
    expect(page.get_by_test_id("field-maxIterations")).to_have_value("10")
    page.get_by_test_id("prompt-select").select_option(prompt_id)
    page.get_by_test_id("dataset-select").select_option(dataset_id)
    page.get_by_test_id("field-maxIterations").fill("2")
    page.get_by_test_id("field-candidatesPerIteration").fill("2")
    page.get_by_test_id("field-targetScore").fill("0.99")
    page.get_by_test_id("field-seed").fill("7")
    page.get_by_test_id("metric-exact_match").check()
    page.get_by_test_id("submit-job").click()

    expect(page).to_have_url(JOB_URL)
    expect(page.get_by_test_id("job-status")).to_be_visible()
    job_id = _job_id(page)
    job = web_server.http("GET", f"/api/optimizations/{job_id}").json()["data"]
    assert (job["promptId"], job["datasetId"]) == (prompt_id, dataset_id)
    config = job["config"]
    assert config["dryRun"] is True
    assert (config["maxIterations"], config["candidatesPerIteration"]) == (2, 2)
    assert (config["targetScore"], config["seed"]) == (0.99, 7)
    assert [m["name"] for m in config["evaluationMetrics"]] == ["exact_match"]
    assert config["model"] == "sim/default"
    web_server.wait_job(job_id)  # nothing left running when the server stops


def test_out_of_range_value_shows_its_field_error_and_makes_no_job(
    page: Page, web_server: WebServer, seed: Seed
) -> None:
    prompt_id, dataset_id = seed(web_server)
    page.goto(f"/new?promptId={prompt_id}&datasetId={dataset_id}")
    expect(page.get_by_test_id("prompt-select")).to_have_value(prompt_id)
    expect(page.get_by_test_id("dataset-select")).to_have_value(dataset_id)
    page.get_by_test_id("field-maxIterations").fill("500")
    page.get_by_test_id("field-patience").fill("2.5")
    page.get_by_test_id("field-budget.maxCostUsd").fill("0")
    page.get_by_test_id("submit-job").click()

    expect(page.get_by_test_id("error-maxIterations")).to_have_text(
        "must be a whole number from 1 to 100"
    )
    expect(page.get_by_test_id("error-patience")).to_contain_text("whole number from 1 to 50")
    expect(page.get_by_test_id("error-budget.maxCostUsd")).to_contain_text("greater than 0")
    expect(page.get_by_test_id("error-candidatesPerIteration")).to_be_empty()
    expect(page.get_by_test_id("form-error")).to_be_visible()
    expect(page.get_by_test_id("field-maxIterations")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/new\?"))
    assert _job_count(web_server) == 0

    # Fixed, it goes through.
    page.get_by_test_id("field-maxIterations").fill("1")
    page.get_by_test_id("field-patience").fill("")
    page.get_by_test_id("field-budget.maxCostUsd").fill("")
    page.get_by_test_id("submit-job").click()
    expect(page).to_have_url(JOB_URL)
    web_server.wait_job(_job_id(page))


def test_server_400_shows_next_to_the_field_it_names(
    page: Page, web_server: WebServer, seed: Seed, console: ConsoleLog
) -> None:
    console.allow(r"status of 400 .*/api/optimizations")
    prompt_id, dataset_id = seed(web_server)
    page.goto("/new")
    page.get_by_test_id("prompt-select").select_option(prompt_id)
    page.get_by_test_id("dataset-select").select_option(dataset_id)
    page.get_by_test_id("dry-run").uncheck()
    page.get_by_test_id("field-model").fill("acme/big")  # well-formed, unknown provider
    page.get_by_test_id("submit-job").click()

    expect(page.get_by_test_id("error-model")).to_contain_text("unknown provider 'acme'")
    expect(page.get_by_test_id("form-error")).to_contain_text("did not accept")
    expect(page.get_by_test_id("error-maxIterations")).to_be_empty()
    assert _job_count(web_server) == 0


def test_prompt_and_dataset_created_inline(page: Page, web_server: WebServer) -> None:
    page.goto("/new")
    page.get_by_test_id("prompt-select").select_option("__new__")
    page.get_by_test_id("new-prompt-name").fill("inline-prompt")
    page.get_by_test_id("new-prompt-template").fill("Compute: {question}")
    page.get_by_test_id("dataset-select").select_option("__new__")
    page.get_by_test_id("new-dataset-name").fill("inline-data")
    page.get_by_test_id("new-dataset-items").fill("{not json}")
    page.get_by_test_id("field-maxIterations").fill("1")
    page.get_by_test_id("submit-job").click()
    expect(page.get_by_test_id("error-dataset.items")).to_contain_text("line 1")
    assert web_server.http("GET", "/api/prompts").json()["meta"]["total"] == 0

    page.get_by_test_id("new-dataset-items").fill(
        '{"input": {"question": "2+2"}, "expectedOutput": "4"}\n'
        '{"input": {"question": "3+3"}, "expectedOutput": "6"}'
    )
    page.get_by_test_id("submit-job").click()
    expect(page).to_have_url(JOB_URL)
    expect(page.get_by_test_id("job-status")).to_be_visible()

    job = web_server.http("GET", f"/api/optimizations/{_job_id(page)}").json()["data"]
    prompt = web_server.http("GET", f"/api/prompts/{job['promptId']}").json()["data"]
    dataset = web_server.http("GET", f"/api/datasets/{job['datasetId']}").json()["data"]
    assert (prompt["name"], prompt["template"]) == ("inline-prompt", "Compute: {question}")
    assert (dataset["name"], dataset["itemCount"]) == ("inline-data", 2)
    web_server.wait_job(job["id"])
