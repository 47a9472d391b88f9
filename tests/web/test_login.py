"""Signing the browser in: one-time login links, a pasted key, signing out, a rejected key."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

if os.environ.get("WHETSTONE_REQUIRE_BROWSER") != "1":
    pytest.importorskip("playwright", reason="Playwright is not installed")

from playwright.sync_api import Page, expect

from tests.web.conftest import KEY_STORAGE, ConsoleLog
from tests.web.support import WebServer

UNAUTHORIZED = r"status of 401"  # Chromium logs every failed fetch as a console error


def _stored_key(page: Page) -> str | None:
    key: str | None = page.evaluate(f"() => localStorage.getItem('{KEY_STORAGE}')")
    return key


def test_a_signed_out_visit_goes_to_the_login_page(anon_page: Page, web_server: WebServer) -> None:
    anon_page.goto("/optimizations/job_x?tab=log")
    expect(anon_page).to_have_url(
        f"{web_server.url}/login?next=%2Foptimizations%2Fjob_x%3Ftab%3Dlog"
    )
    expect(anon_page.get_by_test_id("login-form")).to_be_visible()
    expect(anon_page).to_have_title("Sign in · Whetstone")


def test_a_login_link_signs_in_once(
    new_page: Callable[..., Page], web_server: WebServer, console: ConsoleLog
) -> None:
    console.allow(UNAUTHORIZED)
    link = web_server.login_link("/prompts")
    assert "#code=" in link
    first = new_page(signed_in=False)
    first.goto(link)
    expect(first).to_have_url(f"{web_server.url}/prompts")
    expect(first.get_by_test_id("sign-out")).to_be_visible()
    key = _stored_key(first)
    assert key
    assert key.startswith("wst_")
    assert key != web_server.api_key
    assert web_server.http("GET", "/api/optimizations", key=key).status_code == 200
    # The code left the address bar and the history at once.
    assert "code=" not in first.evaluate("() => location.href")
    first.go_back()
    assert "code=" not in first.evaluate("() => location.href")

    second = new_page(signed_in=False)
    second.goto(link)
    expect(second.get_by_test_id("login-error")).to_contain_text("already used")
    expect(second.get_by_test_id("login-form")).to_be_visible()
    assert _stored_key(second) is None
    assert "code=" not in second.url


def test_sign_in_with_a_pasted_key_and_out_again(
    anon_page: Page, web_server: WebServer, console: ConsoleLog
) -> None:
    console.allow(UNAUTHORIZED)
    anon_page.goto("/login")
    anon_page.get_by_test_id("api-key-input").fill("wst_000000000000_not-a-real-key")
    anon_page.get_by_test_id("login-submit").click()
    expect(anon_page.get_by_test_id("login-error")).to_contain_text("did not accept")
    assert _stored_key(anon_page) is None

    anon_page.get_by_test_id("api-key-input").fill(web_server.api_key)
    anon_page.get_by_test_id("login-submit").click()
    expect(anon_page).to_have_url(f"{web_server.url}/")
    expect(anon_page.get_by_test_id("jobs-empty")).to_be_visible()
    assert _stored_key(anon_page) == web_server.api_key

    anon_page.get_by_test_id("sign-out").click()
    expect(anon_page).to_have_url(f"{web_server.url}/login")
    assert _stored_key(anon_page) is None


def test_a_rejected_key_sends_the_user_to_sign_in_again(
    page: Page, web_server: WebServer, console: ConsoleLog
) -> None:
    console.allow(UNAUTHORIZED)
    page.goto("/login")
    page.evaluate(f"() => localStorage.setItem('{KEY_STORAGE}', 'wst_000000000000_revoked')")
    page.goto("/")
    expect(page).to_have_url(f"{web_server.url}/login?reason=rejected&next=%2F")
    expect(page.get_by_test_id("login-error")).to_contain_text("no longer accepts")
    assert _stored_key(page) is None
