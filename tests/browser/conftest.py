"""Browser fixtures: the real app under uvicorn, Debian's Chromium driven by Playwright, axe-core."""

from __future__ import annotations

import re
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright
from sqlmodel import Session

from app import demo
from app.config import PROJECT_ROOT, Settings
from app.main import create_app

CHROMIUM = Path("/usr/bin/chromium")
AXE_SCRIPT = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
# Without the background-networking flags Chromium keeps calling Google services on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

Axe = Callable[[Page], list[dict[str, Any]]]


def live_server_settings(data_dir: Path) -> Settings:
    """Settings of the app the browser talks to: its own SQLite file and evidence store."""
    return Settings(data_dir=data_dir, environment="test")


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The real app with the demo data; tests read its database through `app.state.engine`."""
    app = create_app(live_server_settings(tmp_path_factory.mktemp("live")))
    with Session(app.state.engine) as session:
        demo.seed(session, catalog=app.state.catalog, signer=app.state.signer)
    return app


@pytest.fixture(scope="session")
def live_server(live_app: FastAPI) -> Iterator[str]:
    """Serve `live_app` on a free port of 127.0.0.1; yield its base URL."""
    with serving(live_app) as base_url:
        yield base_url


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve `app` under uvicorn (its lifespan too) on a free port of 127.0.0.1; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound here and handed over, so no other process can take the port
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(app, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    _wait_until_healthy(base_url, thread)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _wait_until_healthy(base_url: str, thread: threading.Thread, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and thread.is_alive():
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"the live server did not answer {base_url}/healthz", pytrace=False)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium; fail (never skip) when `make test` has not installed what it needs."""
    missing = [str(path) for path in (CHROMIUM, AXE_SCRIPT) if not path.exists()]
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)}: run `make test` (or `make browser-deps`), which installs "
            "Debian's chromium and the npm packages",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A page in a fresh French context, with relative URLs resolved against the live server."""
    context = browser.new_context(
        locale="fr-FR", viewport={"width": 1280, "height": 900}, base_url=live_server
    )
    context.set_default_timeout(5_000)
    yield context.new_page()
    context.close()


@pytest.fixture(autouse=True)
def screenshot(page: Page, request: pytest.FixtureRequest) -> Iterator[None]:
    """Keep a full-page PNG of each test's last page in test-artifacts/screenshots/, pass or fail."""
    yield
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    if page.url.startswith("http"):
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.fixture(scope="session")
def axe() -> Axe:
    """Return a function that runs axe-core's WCAG 2.1 A and AA rules on a page and gives the violations.

    axe is injected with `page.evaluate` of its source. `page.add_script_tag(path=...)` does not work:
    Playwright inlines the file into a `<script>` element, which the app's `script-src 'self'` blocks
    (the CSP has no 'unsafe-inline', on purpose). Evaluation through the DevTools protocol is not
    subject to the page's CSP, so the page stays exactly as served; `bypass_csp=True` would instead
    relax the CSP for the whole context and hide what the policy really blocks.
    """
    source = AXE_SCRIPT.read_text(encoding="utf-8")

    def run(page: Page) -> list[dict[str, Any]]:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(source)
        options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}}
        result: dict[str, Any] = page.evaluate("options => axe.run(document, options)", options)
        return list(result["violations"])

    return run
