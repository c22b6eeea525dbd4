"""Browser tests: Debian's Chromium driven by Playwright against a live server.

Locally, a machine without Chromium skips these tests; under CI (``CI`` set) a missing
browser fails them, so they can never pass by not running.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from annotations.models import Course
from annotations.services import reading_load

# Playwright's sync API runs an event loop in the test's thread; the ORM calls made by
# the test's own fixtures are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium_path()
    if executable is None:
        message = "Chromium is not installed (apt-get install chromium), so the browser tests cannot run."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def watched(page: Any) -> Any:
    """``page``, recording its console errors, script errors, failed requests and error
    answers in ``page.problems``."""
    page.problems = []
    page.on("console", lambda msg: msg.type == "error" and page.problems.append(f"console: {msg.text}"))
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    # A request the browser itself cancels because the page moved on (net::ERR_ABORTED, e.g.
    # a favicon still loading during a navigation) is no fault of the site.
    page.on(
        "requestfailed",
        lambda request: (
            "ERR_ABORTED" not in (request.failure or "")
            and page.problems.append(f"request failed: {request.url} ({request.failure})")
        ),
    )
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and page.problems.append(f"{response.status}: {response.url}")
        ),
    )
    return page


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    """A fresh page that records console errors and failed requests in ``page.problems``."""
    reading_load(path=settings.DEFAULT_READING_DIR)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = watched(context.new_page())
    yield page
    context.close()


@pytest.fixture
def demo(page):
    """The demo course, its accounts and groups (password demo-pass-2026)."""
    call_command("seed_demo", stdout=io.StringIO())
    return Course.objects.get(join_code="SCO-DEMO")


def log_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo-pass-2026")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
