"""The jobs list (``/``) in Chromium: empty state, live statuses by polling, links."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

if os.environ.get("WHETSTONE_REQUIRE_BROWSER") != "1":
    pytest.importorskip("playwright", reason="Playwright is not installed")

from playwright.sync_api import Page, expect

from tests.web.support import WebServer, slow_config

Seed = Callable[[WebServer], tuple[str, str]]


def test_no_jobs_yet(page: Page, web_server: WebServer) -> None:
    page.goto("/")
    expect(page.get_by_test_id("jobs-empty")).to_be_visible()
    expect(page.get_by_test_id("new-job-link")).to_have_attribute("href", "/new")
    expect(page).to_have_title("Jobs · Whetstone")


def test_statuses_and_scores_update_while_jobs_run(
    page: Page, web_server: WebServer, seed: Seed
) -> None:
    prompt_id, dataset_id = seed(web_server)
    done = web_server.start_job(prompt_id, dataset_id, slow_config(iterations=2, latency_ms=0))
    web_server.wait_job(done.id)
    running = web_server.start_job(prompt_id, dataset_id, slow_config(iterations=6, latency_ms=100))
    page.goto("/")
    rows = page.get_by_test_id("job-row")
    expect(rows).to_have_count(2)
    # Newest first.
    expect(rows.nth(0)).to_have_attribute("data-job-id", running.id)
    expect(rows.nth(1)).to_have_attribute("data-job-id", done.id)
    first = rows.nth(0)
    expect(first.get_by_test_id("job-row-status")).to_have_text("running")
    expect(first).to_contain_text("SIMULATED")
    expect(first).to_contain_text("v1")  # the prompt's name and version
    expect(first.get_by_test_id("job-row-status")).to_have_text("completed", timeout=30_000)
    results = web_server.client.optimization.results(running.id)
    expect(first.get_by_test_id("job-row-score")).to_have_text(
        f"{results.initial_score:.3f} → {results.final_score:.3f}"
    )

    first.get_by_role("link").first.click()
    expect(page).to_have_url(f"{web_server.url}/optimizations/{running.id}")
    expect(page.get_by_test_id("job-status")).to_have_text("completed")
    page.go_back()
    expect(rows).to_have_count(2)


def test_filter_by_status(page: Page, web_server: WebServer, seed: Seed) -> None:
    prompt_id, dataset_id = seed(web_server)
    done = web_server.start_job(prompt_id, dataset_id, slow_config(iterations=1, latency_ms=0))
    web_server.wait_job(done.id)
    cancelled = web_server.start_job(prompt_id, dataset_id, slow_config(iterations=40))
    web_server.client.optimization.cancel(cancelled.id)
    page.goto("/")
    expect(page.get_by_test_id("job-row")).to_have_count(2)
    page.get_by_test_id("status-filter").select_option("completed")
    expect(page).to_have_url(f"{web_server.url}/?status=completed")
    expect(page.get_by_test_id("job-row")).to_have_count(1)
    expect(page.get_by_test_id("job-row")).to_have_attribute("data-job-id", done.id)
    page.get_by_test_id("status-filter").select_option("failed")
    expect(page.get_by_test_id("job-row")).to_have_count(0)
    expect(page.get_by_test_id("jobs-summary")).to_have_text("No failed jobs.")
