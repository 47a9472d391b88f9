"""The job page in Chromium: live chart and log, the buttons, reconnects, reloads."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("WHETSTONE_REQUIRE_BROWSER") != "1":
    pytest.importorskip("playwright", reason="Playwright is not installed")

from playwright.sync_api import Page, Route, expect

from tests.web.conftest import ConsoleLog
from tests.web.support import WebServer, slow_config

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "job-page.png"
# Chromium reports a WebSocket that cannot connect (the proxy refuses) as a console error.
WS_REFUSED = r"WebSocket connection to .* failed"

Seed = Callable[[WebServer], tuple[str, str]]


def _row_ids(page: Page) -> list[int]:
    ids: list[str] = page.locator('[data-testid="event-row"]').evaluate_all(
        "rows => rows.map(r => r.dataset.eventId)"
    )
    return sorted(int(i) for i in ids)


def _expect_complete_log(page: Page, web_server: WebServer, job_id: str) -> list[dict[str, Any]]:
    """Once the job has ended: one row per stored event, ids 1..N, none twice."""
    events = web_server.events(job_id)
    rows = page.locator('[data-testid="event-row"]')
    expect(rows).to_have_count(len(events))
    assert _row_ids(page) == list(range(1, len(events) + 1))
    return events


def _candidates(events: list[dict[str, Any]]) -> set[str]:
    return {
        e["data"]["candidateId"]
        for e in events
        if e["eventType"] == "evaluation_complete" and e["data"]["score"] is not None
    }


def _open_job(page: Page, job_id: str) -> None:
    page.goto(f"/optimizations/{job_id}")
    expect(page.get_by_test_id("job-status")).not_to_have_text("…")


def test_a_running_job_updates_chart_and_log_live(
    page: Page, web_server: WebServer, seed: Seed
) -> None:
    prompt_id, dataset_id = seed(web_server)
    job = web_server.start_job(prompt_id, dataset_id, slow_config(iterations=6, latency_ms=100))
    _open_job(page, job.id)
    status = page.get_by_test_id("job-status")
    rows = page.locator('[data-testid="event-row"]')
    expect(status).to_have_text("running")
    expect(page.get_by_test_id("simulated-badge")).to_be_visible()
    expect(page.get_by_test_id("connection-state")).to_have_text("connected")
    # The log grows while the job runs.
    seen = rows.count()
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=event-row]').length > n", arg=seen
    )
    expect(page.get_by_test_id("chart-dot").first).to_be_attached()

    expect(status).to_have_text("completed", timeout=30_000)
    events = _expect_complete_log(page, web_server, job.id)
    expect(page.get_by_test_id("chart-dot")).to_have_count(len(_candidates(events)))
    results = events[-1]["data"]["results"]
    expect(page.get_by_test_id("best-score")).to_have_text(f"{results['finalScore']:.3f}")
    expect(page.get_by_test_id("job-progress")).to_have_text("6 / 6")
    link = page.get_by_test_id("result-prompt-link")
    expect(link).to_have_attribute("href", f"/prompts/{results['resultPromptId']}")
    for name in ("pause", "resume", "cancel"):
        expect(page.get_by_test_id(f"{name}-button")).to_be_disabled()


def test_pause_resume_and_cancel_with_the_buttons(
    page: Page, web_server: WebServer, seed: Seed
) -> None:
    prompt_id, dataset_id = seed(web_server)
    job = web_server.start_job(prompt_id, dataset_id, slow_config(iterations=40))
    _open_job(page, job.id)
    status = page.get_by_test_id("job-status")
    pause, resume, cancel = (
        page.get_by_test_id(f"{n}-button") for n in ("pause", "resume", "cancel")
    )
    expect(status).to_have_text("running")
    expect(resume).to_be_disabled()

    pause.click()
    expect(status).to_have_text("paused")
    expect(pause).to_be_disabled()
    expect(resume).to_be_enabled()
    expect(page.locator('[data-testid="event-row"].ev-job_paused')).to_have_count(1)
    assert web_server.client.optimization.get(job.id).status == "paused"

    resume.click()
    expect(status).to_have_text("running")
    expect(page.locator('[data-testid="event-row"].ev-job_resumed')).to_have_count(1)
    expect(pause).to_be_enabled()

    page.once("dialog", lambda dialog: dialog.accept())
    cancel.click()
    expect(status).to_have_text("cancelled")
    expect(page.get_by_test_id("job-results")).to_contain_text("cancelled")
    _expect_complete_log(page, web_server, job.id)
    for button in (pause, resume, cancel):
        expect(button).to_be_disabled()


def test_a_dropped_socket_reconnects_without_gaps_or_duplicates(
    page: Page, web_server: WebServer, seed: Seed, console: ConsoleLog
) -> None:
    console.allow(WS_REFUSED)
    prompt_id, dataset_id = seed(web_server)
    job = web_server.start_job(prompt_id, dataset_id, slow_config(iterations=30))
    _open_job(page, job.id)
    indicator = page.get_by_test_id("connection-state")
    expect(indicator).to_have_text("connected")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=event-row]').length > 5")
    page.evaluate(
        """() => {
            const el = document.querySelector('[data-testid=connection-state]');
            window.__states = [el.textContent];
            new MutationObserver(() => window.__states.push(el.textContent))
                .observe(el, {childList: true, characterData: true, subtree: true});
        }"""
    )

    web_server.refuse_connections()
    assert web_server.cut_connections() >= 1
    expect(indicator).to_have_text("reconnecting")
    before = _row_ids(page)
    web_server.accept_connections()
    expect(indicator).to_have_text("connected", timeout=30_000)
    # The job went on meanwhile: the rows catch up from where they were.
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=event-row]').length > n", arg=len(before)
    )
    states = page.evaluate("() => window.__states")
    assert states[0] == "connected"
    assert "reconnecting" in states
    assert states[-1] == "connected"

    web_server.client.optimization.cancel(job.id)
    expect(page.get_by_test_id("job-status")).to_have_text("cancelled")
    _expect_complete_log(page, web_server, job.id)


def test_a_reload_mid_job_shows_the_stored_best_and_carries_on(
    page: Page, web_server: WebServer, seed: Seed
) -> None:
    prompt_id, dataset_id = seed(web_server)
    job = web_server.start_job(prompt_id, dataset_id, slow_config(iterations=30))
    _open_job(page, job.id)
    best = page.get_by_test_id("best-score")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=event-row]')]"
        ".some(r => r.classList.contains('ev-new_best'))"
    )
    stored = page.evaluate(f"() => JSON.parse(localStorage.getItem('whetstone:best:{job.id}'))")
    assert stored["score"] > 0

    # Hold the job's REST answer: the stored best must show before it.
    gate: dict[str, Any] = {"open": False, "held": []}

    def hold(route: Route) -> None:
        if gate["open"]:
            route.continue_()
        else:
            gate["held"].append(route)

    page.route(f"**/api/optimizations/{job.id}", hold)
    page.reload()
    expect(best).to_have_text(f"{stored['score']:.3f}")
    expect(page.get_by_test_id("job-status")).to_have_text("…")  # the job has not loaded
    gate["open"] = True
    for route in gate["held"]:
        route.continue_()

    expect(page.get_by_test_id("job-status")).to_have_text("running")
    expect(page.get_by_test_id("connection-state")).to_have_text("connected")
    web_server.client.optimization.cancel(job.id)
    expect(page.get_by_test_id("job-status")).to_have_text("cancelled")
    events = _expect_complete_log(page, web_server, job.id)
    expect(page.get_by_test_id("chart-dot")).to_have_count(len(_candidates(events)))


def test_a_finished_job(page: Page, web_server: WebServer, seed: Seed) -> None:
    """Everything a finished job shows; with WHETSTONE_SCREENSHOT=1 it also saves
    docs/img/job-page.png."""
    prompt_id, dataset_id = seed(web_server)
    config = slow_config(iterations=8, latency_ms=0)
    job = web_server.start_job(prompt_id, dataset_id, config)
    results = web_server.wait_job(job.id)
    assert results is not None
    _open_job(page, job.id)
    expect(page.get_by_test_id("job-status")).to_have_text("completed")
    expect(page.get_by_test_id("connection-state")).to_have_text("offline")
    expect(page.get_by_test_id("best-score")).to_have_text(f"{results.final_score:.3f}")
    expect(page.get_by_test_id("simulated-badge")).to_have_text("SIMULATED")
    expect(page.get_by_test_id("job-cost")).to_contain_text("$")
    expect(page.get_by_test_id("best-prompt").get_by_test_id("diff")).to_be_visible()
    added = page.get_by_test_id("diff").get_attribute("data-added")
    assert added is not None
    assert int(added) > 0
    expect(page.get_by_test_id("event-log-note")).to_contain_text("500")
    _expect_complete_log(page, web_server, job.id)
    if os.environ.get("WHETSTONE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_test_id("result-prompt-link").click()
    expect(page).to_have_url(f"{web_server.url}/prompts/{results.result_prompt_id}")
    page.go_back()
    expect(page.get_by_test_id("job-status")).to_have_text("completed")


def test_an_unknown_job_is_not_found(
    page: Page, web_server: WebServer, console: ConsoleLog
) -> None:
    console.allow(r"status of 404")
    page.goto("/optimizations/job_doesnotexist")
    expect(page.get_by_test_id("not-found")).to_be_visible()


def test_the_log_keeps_the_last_500_rows(page: Page, web_server: WebServer, seed: Seed) -> None:
    prompt_id, dataset_id = seed(web_server)
    config = slow_config(iterations=100, latency_ms=0, seed=3)
    job = web_server.start_job(prompt_id, dataset_id, config)
    web_server.wait_job(job.id)
    total = len(web_server.events(job.id))
    assert total > 500
    _open_job(page, job.id)
    expect(page.get_by_test_id("job-status")).to_have_text("completed")
    rows = page.locator('[data-testid="event-row"]')
    expect(rows).to_have_count(500)
    assert _row_ids(page) == list(range(total - 499, total + 1))
    expect(rows.first).to_have_attribute("data-event-id", str(total))  # newest first
    note = page.get_by_test_id("event-log-note")
    expect(note).to_contain_text(f"Showing the last 500 of {total} events")
