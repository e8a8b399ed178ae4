"""Browser tests: Debian's Chromium driven by Playwright against a real uvicorn server.

No browser is ever downloaded. Without /usr/bin/chromium the tests are skipped, unless the run
requires them (CI=true or ASSAY_REQUIRE_BROWSER=1): then they fail with a clear message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.factories import World, build_world
from tests.live_server import serving

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 20


def _browser_required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("ASSAY_REQUIRE_BROWSER") == "1"


def _unavailable(reason: str) -> None:
    if _browser_required():
        pytest.fail(
            f"browser tests are required here (CI=true or ASSAY_REQUIRE_BROWSER=1) "
            f"but cannot run: {reason}",
            pytrace=False,
        )
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(engine: Engine) -> Iterator[str]:
    """create_app() served by uvicorn on a free local port, in a background thread."""
    with serving() as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"the playwright package is not installed: {exc}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) per test, pointed at the live server."""
    ctx = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    tab = context.new_page()
    yield tab
    tab.close()


@pytest.fixture
def console_log(page: Page) -> list[str]:
    """Every console message and page error, so tests can assert that CSP never fired."""
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    return messages


@pytest.fixture
def world(session: Session) -> World:
    built = build_world(session)
    session.commit()  # visible to the server; the session holds no transaction afterwards
    return built
