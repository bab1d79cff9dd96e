"""A live server on a fresh seeded database, and Debian's Chromium driven by Playwright."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ..conftest import fresh_database, make_app

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
OUTPUT = Path(os.environ.get("TEST_OUTPUT_DIR", Path(__file__).resolve().parents[2] /
                             "test-output")) / "browser"


def _browser_or_skip():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required but Chromium ({CHROMIUM}) or "
                        "Playwright is missing")
        pytest.skip("Chromium or Playwright is not installed")
    return sync_playwright


@pytest.fixture(scope="module")
def live_server(templates, tmp_path_factory):
    """The real app (CSRF on, Danish by default) served on a free loopback port."""
    url, _ = fresh_database(templates, "sqlite", True, tmp_path_factory.mktemp("live"))
    app = make_app(url, MAIL_BACKEND="memory")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    sync_playwright = _browser_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield browser
        browser.close()


class Session:
    """One person's browser tab; collects console errors and CSP violations."""

    def __init__(self, browser, base: str, name: str):
        self.context = browser.new_context(locale="da-DK", viewport={"width": 1280,
                                                                     "height": 900})
        self.page = self.context.new_page()
        self.base, self.name, self.problems, self.shots = base, name, [], 0
        self.page.on("console", lambda m: m.type in ("error", "warning") and
                     self.problems.append(f"console {m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def goto(self, path: str):
        self.page.goto(self.base + path)
        self.check_csp()

    def check_csp(self):
        violations = self.page.evaluate("window.__cspViolations || []")
        self.problems.extend(f"CSP: {v}" for v in violations)

    def login(self, username: str, password: str = "htk-demo-2024"):
        self.goto("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("form.narrow button[type=submit]")
        self.page.wait_for_load_state()

    def shot(self, step: str):
        OUTPUT.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        self.page.screenshot(path=str(OUTPUT / f"{self.name}-{self.shots:02d}-{step}.png"),
                             full_page=True)

    def close(self):
        self.context.close()


@pytest.fixture
def person(browser, live_server):
    """person(name): a fresh browser session; asserts no console error or CSP violation."""
    base, _app = live_server
    sessions: list[Session] = []

    def _open(name: str) -> Session:
        session = Session(browser, base, name)
        # Record CSP violations from the page itself, before any of its own code runs.
        session.context.add_init_script(
            "window.__cspViolations = [];"
            "document.addEventListener('securitypolicyviolation',"
            " e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));")
        sessions.append(session)
        return session
    yield _open
    problems = [f"{s.name}: {p}" for s in sessions for p in s.problems]
    for session in sessions:
        session.close()
    assert problems == []
